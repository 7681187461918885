# The profile core (tables, pprof, folded, symmap) and the ELF reader,
# compiled into each test so the ASan variant instruments them too.
set(PROFILE_PB_C "${PROJECT_BINARY_DIR}/core/profile/profile.pb-c.c")
set_source_files_properties("${PROFILE_PB_C}" PROPERTIES GENERATED TRUE)
set(PROFILE_TEST_SOURCES
    ${PROJECT_SOURCE_DIR}/core/profile/tables.c
    ${PROJECT_SOURCE_DIR}/core/profile/samples.c
    ${PROJECT_SOURCE_DIR}/core/profile/encode.c
    ${PROJECT_SOURCE_DIR}/core/profile/decode.c
    ${PROJECT_SOURCE_DIR}/core/profile/folded.c
    ${PROJECT_SOURCE_DIR}/core/profile/symmap.c
    ${PROJECT_SOURCE_DIR}/core/profile/symmap_side.c
    ${PROJECT_SOURCE_DIR}/core/elf/elf.c
    ${PROJECT_SOURCE_DIR}/core/sys/writefile.c
    "${PROFILE_PB_C}")
# test_encode checks the encoder against protobuf-c's packing (encode_ref.c).
set(PROFILE_TEST_EXTRA_encode ${CMAKE_CURRENT_LIST_DIR}/encode_ref.c)
foreach(t profile elf symmap encode)
    perfgo_c_test(${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c ${PROFILE_TEST_EXTRA_${t}}
        ${PROFILE_TEST_SOURCES}
        LIBS PkgConfig::PROTOBUFC PkgConfig::ZLIB PkgConfig::LIBDEFLATE
        INCLUDES ${PROJECT_BINARY_DIR}/core/profile)
    add_dependencies(test_${t} perfgo_profile_core)
    if(TARGET test_${t}_asan)
        add_dependencies(test_${t}_asan perfgo_profile_core)
    endif()
endforeach()

