# Finds the libraries perfgo builds against. Each missing one stops
# configure with the Debian package that provides it.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
    message(FATAL_ERROR "pkg-config not found: install it with `apt-get install pkg-config` (or run scripts/setup.sh)")
endif()

function(perfgo_require prefix module package)
    pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
    if(NOT ${prefix}_FOUND)
        message(FATAL_ERROR "${module} not found through pkg-config: install the Debian package `${package}` (or run scripts/setup.sh)")
    endif()
    message(STATUS "Found ${module} ${${prefix}_VERSION}")
endfunction()

perfgo_require(LUA lua5.4 liblua5.4-dev)
perfgo_require(ZLIB zlib zlib1g-dev)
perfgo_require(PROTOBUFC libprotobuf-c libprotobuf-c-dev)
# libdeflate writes the gzip of pprof output (faster than zlib at level 1);
# zlib still reads gzip input.
perfgo_require(LIBDEFLATE libdeflate libdeflate-dev)

find_program(PROTOC_C NAMES protoc-c)
if(NOT PROTOC_C)
    message(FATAL_ERROR "protoc-c not found: install the Debian package `protobuf-c-compiler` (or run scripts/setup.sh)")
endif()

# Lua headers only, for the bindings: loadable modules must not link liblua
# (the interpreter that loads them provides its symbols).
add_library(perfgo_lua_headers INTERFACE)
target_include_directories(perfgo_lua_headers INTERFACE ${LUA_INCLUDE_DIRS})

# POSIX threads (perfgo.parser reads files ahead in a thread).
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

# perf.data reading (core/perfdata): elfutils' libdw/libdwfl symbolizes
# addresses (the library perf itself uses), libzstd inflates the
# COMPRESSED records of `perf record -z`.
perfgo_require(LIBDW libdw libdw-dev)
perfgo_require(LIBELF libelf libelf-dev)
perfgo_require(LIBZSTD libzstd libzstd-dev)
# C++ and Rust symbols are demangled as perf demangles them, with GNU
# libiberty's cplus_demangle (Debian ships it static and position
# independent, without pkg-config).
find_path(LIBIBERTY_INCLUDE_DIR libiberty/demangle.h)
find_library(LIBIBERTY_LIBRARY NAMES libiberty.a iberty)
if(NOT LIBIBERTY_INCLUDE_DIR OR NOT LIBIBERTY_LIBRARY)
    message(FATAL_ERROR "libiberty not found: install the Debian package `libiberty-dev` (or run scripts/setup.sh)")
endif()
add_library(perfgo_libiberty INTERFACE)
target_include_directories(perfgo_libiberty INTERFACE ${LIBIBERTY_INCLUDE_DIR})
target_link_libraries(perfgo_libiberty INTERFACE ${LIBIBERTY_LIBRARY})
