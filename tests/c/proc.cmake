set(PERFGO_PROC_SOURCES
    ${PROJECT_SOURCE_DIR}/core/proc/spawn.c ${PROJECT_SOURCE_DIR}/core/proc/wait.c
    ${PROJECT_SOURCE_DIR}/core/proc/stream.c ${PROJECT_SOURCE_DIR}/core/proc/signals.c)
perfgo_c_test(proc SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_proc.c ${PERFGO_PROC_SOURCES})
perfgo_c_test(ssh SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ssh.c ${PROJECT_SOURCE_DIR}/core/ssh/argv.c)
perfgo_c_test(ssh_session SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ssh_session.c ${PERFGO_PROC_SOURCES}
    ${PROJECT_SOURCE_DIR}/core/ssh/argv.c ${PROJECT_SOURCE_DIR}/core/ssh/session.c
    ${PROJECT_SOURCE_DIR}/core/ssh/tree.c ${PROJECT_SOURCE_DIR}/core/ssh/channel.c
    LIBS Threads::Threads)
foreach(t test_ssh_session test_ssh_session_asan)
    if(TARGET ${t})
        target_compile_definitions(${t} PRIVATE PERFGO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
    endif()
endforeach()
