# The perf.data reader, its symbolizer and conversion, with the parser
# they feed, compiled into the test so the ASan variant instruments them.
perfgo_c_test(perfdata SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_perfdata.c
    ${PERFGO_PERFDATA_SOURCES} ${PERFGO_PERFSCRIPT_SOURCES}
    ${PROJECT_SOURCE_DIR}/core/elf/elf.c
    LIBS PkgConfig::LIBZSTD PkgConfig::LIBDW PkgConfig::LIBELF perfgo_libiberty
    INCLUDES ${PROJECT_SOURCE_DIR}/core/perfscript)
