# Included from the top-level CMakeLists.txt so that protoc's include root is
# the repository root, exactly as in bazel-alt/: imports read
# "proto/<svc>/v1/<svc>.proto" and generated headers land at
# build/proto/<svc>/v1/<svc>.{pb,grpc.pb}.h.
set(ARCA_PROTOS
  proto/types/v1/types.proto
  proto/catalog/v1/catalog.proto
  proto/collector/v1/collector.proto
  proto/retention/v1/retention.proto
  proto/scheduling/v1/scheduling.proto
  proto/echo/v1/echo.proto)

add_library(arca_proto STATIC ${ARCA_PROTOS})
target_link_libraries(arca_proto PUBLIC protobuf::libprotobuf gRPC::grpc++)
target_include_directories(arca_proto PUBLIC ${PROJECT_BINARY_DIR})
protobuf_generate(TARGET arca_proto LANGUAGE cpp
  IMPORT_DIRS ${PROJECT_SOURCE_DIR} PROTOC_OUT_DIR ${PROJECT_BINARY_DIR})
protobuf_generate(TARGET arca_proto LANGUAGE grpc
  GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
  PLUGIN "protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>"
  IMPORT_DIRS ${PROJECT_SOURCE_DIR} PROTOC_OUT_DIR ${PROJECT_BINARY_DIR})
add_library(arca::proto ALIAS arca_proto)
arca_record_target(proto)
