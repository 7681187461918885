# The parser's sources compiled into the test, so the ASan variant
# instruments them too.
set(PERFSCRIPT_DIR ${PROJECT_SOURCE_DIR}/core/perfscript)
perfgo_c_test(perfscript SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_perfscript.c
    ${PERFSCRIPT_DIR}/util.c ${PERFSCRIPT_DIR}/header.c ${PERFSCRIPT_DIR}/frame.c
    ${PERFSCRIPT_DIR}/stream.c ${PERFSCRIPT_DIR}/tables.c ${PERFSCRIPT_DIR}/stacks.c
    ${PERFSCRIPT_DIR}/fold.c ${PERFSCRIPT_DIR}/folded.c
    INCLUDES ${PERFSCRIPT_DIR})

# The fuzz target lives in tests/fuzz (built with clang when available).
add_subdirectory(${PROJECT_SOURCE_DIR}/tests/fuzz ${PROJECT_BINARY_DIR}/tests/fuzz)
