perfgo_c_test(sys SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sys.c ${PROJECT_SOURCE_DIR}/core/sys/sys.c)
