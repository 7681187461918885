# Precompiled Lua: every script under lua/ and the argparse module, compiled
# with luac into <build>/luac/<module path>.luac (installed beside the
# scripts). Each .luac gets its source's modification time; the host loads
# one only when that time still matches its source's, so an edited script
# is read from source until the next build. Without a Lua 5.4 luac the
# cache is not built and the host compiles the scripts at every start.
set(PERFGO_LUAC_INSTALL_DIR "${CMAKE_INSTALL_DATADIR}/perfgo/luac")
set(PERFGO_LUAC_OUTPUT_DIR "${PROJECT_BINARY_DIR}/luac")

find_program(PERFGO_LUAC NAMES luac5.4 luac)
find_program(PERFGO_LUA_INTERPRETER NAMES lua5.4 lua)
set(luac_ok FALSE)
if(PERFGO_LUAC)
    execute_process(COMMAND "${PERFGO_LUAC}" -v OUTPUT_VARIABLE luac_version
        ERROR_VARIABLE luac_version RESULT_VARIABLE luac_rc)
    if(luac_rc EQUAL 0 AND luac_version MATCHES "Lua 5\\.4")
        set(luac_ok TRUE)
    endif()
endif()

if(NOT luac_ok)
    message(STATUS "luac 5.4 not found: the Lua scripts are not precompiled")
    return()
endif()

# module path relative to its root -> absolute source file
set(luac_sources "")
file(GLOB_RECURSE lua_scripts CONFIGURE_DEPENDS RELATIVE "${PROJECT_SOURCE_DIR}/lua"
    "${PROJECT_SOURCE_DIR}/lua/*.lua")
foreach(rel IN LISTS lua_scripts)
    list(APPEND luac_sources "${rel}|${PROJECT_SOURCE_DIR}/lua")
endforeach()
if(PERFGO_LUA_INTERPRETER)
    execute_process(COMMAND "${PERFGO_LUA_INTERPRETER}" -e
        "io.write(package.searchpath('argparse', package.path) or '')"
        OUTPUT_VARIABLE argparse_path RESULT_VARIABLE lua_rc)
    if(lua_rc EQUAL 0 AND argparse_path MATCHES "/argparse\\.lua$")
        get_filename_component(argparse_dir "${argparse_path}" DIRECTORY)
        list(APPEND luac_sources "argparse.lua|${argparse_dir}")
    endif()
endif()

set(luac_outputs "")
foreach(entry IN LISTS luac_sources)
    string(REPLACE "|" ";" parts "${entry}")
    list(GET parts 0 rel)
    list(GET parts 1 root)
    string(REGEX REPLACE "\\.lua$" ".luac" out_rel "${rel}")
    set(out "${PERFGO_LUAC_OUTPUT_DIR}/${out_rel}")
    get_filename_component(out_dir "${out}" DIRECTORY)
    # compiled under its module path (the chunk name the host checks), then
    # stamped with its source's time
    add_custom_command(OUTPUT "${out}"
        COMMAND "${CMAKE_COMMAND}" -E make_directory "${out_dir}"
        COMMAND "${PERFGO_LUAC}" -o "${out}" "${rel}"
        COMMAND touch -r "${root}/${rel}" "${out}"
        WORKING_DIRECTORY "${root}"
        DEPENDS "${root}/${rel}"
        COMMENT "luac ${rel}" VERBATIM)
    list(APPEND luac_outputs "${out}")
endforeach()
add_custom_target(perfgo_luac ALL DEPENDS ${luac_outputs})
install(DIRECTORY "${PERFGO_LUAC_OUTPUT_DIR}/" DESTINATION "${PERFGO_LUAC_INSTALL_DIR}")
set(PERFGO_HAVE_LUAC TRUE)
