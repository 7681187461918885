# perfgo_module(NAME BINDING file.c... [CORE objlib...] [LIBS lib...])
#
# A native Lua module `perfgo.NAME`. CORE names the pure-C object libraries
# it is made of, BINDING the files in core/lua/ that include lua.h (one of
# them defines luaopen_perfgo_NAME). The objects are compiled once and used twice:
#   - linked into the `perfgo` host, which registers the module in
#     package.preload;
#   - as the loadable module <build>/perfgo/NAME.so, installed under
#     lib/lua/5.4/perfgo/, for plain lua5.4 and busted.
function(perfgo_module name)
    cmake_parse_arguments(M "" "" "BINDING;CORE;LIBS" ${ARGN})
    add_library(perfgo_${name}_binding OBJECT ${M_BINDING})
    target_link_libraries(perfgo_${name}_binding PRIVATE perfgo_lua_headers)
    target_include_directories(perfgo_${name}_binding PRIVATE ${PROJECT_SOURCE_DIR}/core)
    foreach(core IN LISTS M_CORE)
        target_link_libraries(perfgo_${name}_binding PRIVATE ${core})
    endforeach()

    add_library(perfgo_${name}_module MODULE
        $<TARGET_OBJECTS:perfgo_${name}_binding>)
    foreach(core IN LISTS M_CORE)
        target_sources(perfgo_${name}_module PRIVATE $<TARGET_OBJECTS:${core}>)
    endforeach()
    target_link_libraries(perfgo_${name}_module PRIVATE ${M_LIBS})
    set_target_properties(perfgo_${name}_module PROPERTIES
        PREFIX "" OUTPUT_NAME "${name}"
        LIBRARY_OUTPUT_DIRECTORY "${PERFGO_MODULE_OUTPUT_DIR}")
    install(TARGETS perfgo_${name}_module
        LIBRARY DESTINATION "${PERFGO_MODULE_INSTALL_DIR}")

    set_property(GLOBAL APPEND PROPERTY PERFGO_MODULES ${name})
    set_property(GLOBAL APPEND PROPERTY PERFGO_MODULE_OBJECTS
        perfgo_${name}_binding ${M_CORE})
    set_property(GLOBAL APPEND PROPERTY PERFGO_MODULE_LIBS ${M_LIBS})
endfunction()
