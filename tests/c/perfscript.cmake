perfgo_c_test(perfscript SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_perfscript.c
    $<TARGET_OBJECTS:perfgo_perfscript_core>)

# The fuzz target lives in tests/fuzz (built with clang when available).
add_subdirectory(${PROJECT_SOURCE_DIR}/tests/fuzz ${PROJECT_BINARY_DIR}/tests/fuzz)
