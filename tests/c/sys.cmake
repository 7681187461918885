perfgo_c_test(sys SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sys.c ${PROJECT_SOURCE_DIR}/core/sys/sys.c)
# The host name test again under the longest host name Linux allows (64
# bytes), in a UTS namespace of its own (unshare -u needs root; skipped
# without it).
find_program(PERFGO_UNSHARE NAMES unshare)
if(PERFGO_UNSHARE)
    set(long_host perfgo-test-a-host-name-of-sixty-four-bytes-0123456789abcdefghij)
    set(sys_test test_sys_asan)
    if(PERFGO_SANITIZE)
        set(sys_test test_sys)
    endif()
    add_test(NAME c.sys.long_hostname
        COMMAND sh -c "${PERFGO_UNSHARE} -u true 2>/dev/null || exit 77; exec ${PERFGO_UNSHARE} -u sh -c 'hostname ${long_host} && exec \"$0\"' \"$0\"" $<TARGET_FILE:${sys_test}>)
    set_tests_properties(c.sys.long_hostname PROPERTIES
        ENVIRONMENT "PERFGO_EXPECT_HOSTNAME=${long_host};ASAN_OPTIONS=detect_leaks=1"
        SKIP_RETURN_CODE 77 LABELS c)
endif()
perfgo_c_test(writefile
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_writefile.c ${PROJECT_SOURCE_DIR}/core/sys/writefile.c)
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
perfgo_c_test(trust
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_trust.c ${PROJECT_SOURCE_DIR}/core/sys/trust.c)
