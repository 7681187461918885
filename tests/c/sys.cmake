perfgo_c_test(sys SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sys.c ${PROJECT_SOURCE_DIR}/core/sys/sys.c)
perfgo_c_test(readahead
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_readahead.c ${PROJECT_SOURCE_DIR}/core/sys/readahead.c
    LIBS Threads::Threads)
# The reader's thread hand-off, under ThreadSanitizer too.
if(NOT PERFGO_SANITIZE AND CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    add_executable(test_readahead_tsan ${CMAKE_CURRENT_LIST_DIR}/test_readahead.c
        ${PROJECT_SOURCE_DIR}/core/sys/readahead.c)
    target_include_directories(test_readahead_tsan PRIVATE
        ${PROJECT_SOURCE_DIR}/core ${PROJECT_SOURCE_DIR}/tests/c)
    target_compile_options(test_readahead_tsan PRIVATE -fsanitize=thread -g)
    target_link_options(test_readahead_tsan PRIVATE -fsanitize=thread)
    target_link_libraries(test_readahead_tsan PRIVATE Threads::Threads)
    add_test(NAME c.readahead.tsan COMMAND test_readahead_tsan)
    set_tests_properties(c.readahead.tsan PROPERTIES
        ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1" LABELS "c;tsan")
endif()
