# Fails when a folder of core/ includes a folder it may not (README, Layout).
# The map lists, for each folder, the folders it may include; it is ordered
# by layer, so no cycle can pass. ui/ may include core/, core/ never ui/.
# Usage: cmake -DSOURCE_DIR=path -P check_layers.cmake
cmake_minimum_required(VERSION 3.22)
set(layers
    "util:"
    "net:util"
    "http:net,util"
    "domain:util"
    "auth:util"
    "records:domain,util"
    "store:domain,net,records,util"
    "limits:domain,records,store,util"
    "balancer:domain,util"
    "metrics:balancer,domain,records,util"
    "convert:util"
    "proxy:balancer,convert,domain,http,limits,metrics,net,records,util"
    "alerts:balancer,domain,http,proxy,util"
    "service:balancer,domain,net,proxy,store,util"
    "catalog:domain,proxy,service,store,util"
    "models:balancer,domain,net,records,service,store,util"
    "admin:auth,balancer,domain,http,limits,net,proxy,records,service,store,util"
    "runtime:domain,net,proxy,service,store,util"
    "engine:admin,alerts,auth,balancer,catalog,convert,domain,limits,http,metrics,models,net,proxy,records,service,store,util")

set(known "")
set(failures "")
foreach(entry IN LISTS layers)
    string(REPLACE ":" ";" parts "${entry}")
    list(GET parts 0 folder)
    list(LENGTH parts n)
    set(allowed "")
    if(n GREATER 1)
        list(GET parts 1 allowedText)
        string(REPLACE "," ";" allowed "${allowedText}")
    endif()
    # Only folders of lower layers may be named: the order rules out cycles.
    foreach(dep IN LISTS allowed)
        if(NOT dep IN_LIST known)
            list(APPEND failures "the map lets ${folder} include ${dep}, which is not below it")
        endif()
    endforeach()
    list(APPEND known "${folder}")
    file(GLOB sources "${SOURCE_DIR}/core/${folder}/*.h" "${SOURCE_DIR}/core/${folder}/*.cpp")
    foreach(source IN LISTS sources)
        file(STRINGS "${source}" includes REGEX "^#include \"[a-z]+/")
        foreach(line IN LISTS includes)
            string(REGEX REPLACE "^#include \"([a-z]+)/.*" "\\1" dep "${line}")
            if(NOT dep STREQUAL folder AND NOT dep IN_LIST allowed)
                file(RELATIVE_PATH rel "${SOURCE_DIR}" "${source}")
                list(APPEND failures "${rel} includes ${dep}/, which ${folder}/ may not")
            endif()
        endforeach()
    endforeach()
endforeach()

file(GLOB folders LIST_DIRECTORIES true "${SOURCE_DIR}/core/*")
foreach(path IN LISTS folders)
    if(IS_DIRECTORY "${path}")
        get_filename_component(name "${path}" NAME)
        if(NOT name IN_LIST known)
            list(APPEND failures "core/${name}/ is not in the layer map")
        endif()
    endif()
endforeach()

file(GLOB_RECURSE core_sources "${SOURCE_DIR}/core/*.h" "${SOURCE_DIR}/core/*.cpp")
foreach(source IN LISTS core_sources)
    file(STRINGS "${source}" widgets REGEX "^#include [<\"](Q(Widget|Dialog|MainWindow|Application|SystemTrayIcon|Menu)|ui/)")
    if(widgets)
        file(RELATIVE_PATH rel "${SOURCE_DIR}" "${source}")
        list(APPEND failures "${rel} includes a widget header; core/ has no widgets")
    endif()
endforeach()

if(failures)
    list(JOIN failures "\n  " text)
    message(FATAL_ERROR "layering:\n  ${text}")
endif()
list(LENGTH known count)
message(STATUS "layering: ${count} folders of core/, every include allowed")
