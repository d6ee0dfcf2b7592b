# arca_cc_library(NAME n SRCS ... [HDRS ...] DEPS ...) -> target arca_n, alias arca::n
# arca_cc_binary(NAME n SRCS ... DEPS ...)             -> executable n in build/bin
# arca_cc_test(NAME n SRCS ... DEPS ... [DATA_BINS ...]) -> gtest executable n, registered with CTest
# Every target here has a twin of the same name in bazel-alt/.

set(ARCA_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter)

# Every target's Bazel name, written to build/arca_targets.txt by
# arca_write_target_list() for bazel-alt/check_targets.sh.
function(arca_record_target name)
  set_property(GLOBAL APPEND PROPERTY ARCA_TARGET_NAMES ${name})
endfunction()

function(arca_write_target_list)
  get_property(names GLOBAL PROPERTY ARCA_TARGET_NAMES)
  list(SORT names)
  list(JOIN names "\n" text)
  file(WRITE ${PROJECT_BINARY_DIR}/arca_targets.txt "${text}\n")
endfunction()

function(arca_cc_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;HDRS;DEPS" ${ARGN})
  if(A_SRCS)
    add_library(arca_${A_NAME} STATIC ${A_SRCS} ${A_HDRS})
    target_compile_options(arca_${A_NAME} PRIVATE ${ARCA_WARNINGS})
    target_include_directories(arca_${A_NAME} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
    target_link_libraries(arca_${A_NAME} PUBLIC ${A_DEPS})
  else()
    add_library(arca_${A_NAME} INTERFACE ${A_HDRS})
    target_include_directories(arca_${A_NAME} INTERFACE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
    target_link_libraries(arca_${A_NAME} INTERFACE ${A_DEPS})
  endif()
  add_library(arca::${A_NAME} ALIAS arca_${A_NAME})
  arca_record_target(${A_NAME})
endfunction()

function(arca_cc_binary)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  target_compile_options(${A_NAME} PRIVATE ${ARCA_WARNINGS})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS})
  arca_record_target(${A_NAME})
endfunction()

# DATA_BINS: binaries the test runs; their paths reach it as environment
# variables ARCA_BIN_<NAME> (upper case, '-' as '_'). The CLI they run
# reads no one's stored contexts (ARCA_CONFIG names a file never written).
function(arca_cc_test)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS;DATA_BINS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  target_compile_options(${A_NAME} PRIVATE ${ARCA_WARNINGS})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} GTest::gtest GTest::gtest_main)
  set(env "ARCA_CONFIG=${CMAKE_BINARY_DIR}/no-such-arca-config")
  foreach(bin ${A_DATA_BINS})
    string(TOUPPER "${bin}" var)
    string(REPLACE "-" "_" var "${var}")
    list(APPEND env "ARCA_BIN_${var}=$<TARGET_FILE:${bin}>")
    add_dependencies(${A_NAME} ${bin})
  endforeach()
  add_test(NAME ${A_NAME} COMMAND ${A_NAME})
  set_tests_properties(${A_NAME} PROPERTIES LABELS unit ENVIRONMENT "${env}")
  arca_record_target(${A_NAME})
endfunction()
