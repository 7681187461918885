# The parser's sources compiled into the test, so the ASan variant
# instruments them too.
set(PERFSCRIPT_DIR ${PROJECT_SOURCE_DIR}/core/perfscript)
perfgo_c_test(perfscript SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_perfscript.c
    ${PERFGO_PERFSCRIPT_SOURCES}
    INCLUDES ${PERFSCRIPT_DIR})

# The fuzz target lives in tests/fuzz (built with clang when available).
add_subdirectory(${PROJECT_SOURCE_DIR}/tests/fuzz ${PROJECT_BINARY_DIR}/tests/fuzz)
