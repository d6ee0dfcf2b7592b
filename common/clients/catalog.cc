#include "common/clients/catalog.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace arca::clients {
namespace {

namespace cat = ::arca::catalog::v1;

// Calls `list` page after page and `fn` on each item `items` picks out.
template <typename Request, typename Response, typename List, typename Items, typename Fn>
absl::Status Pages(Request request, List list, Items items, Fn fn) {
  for (;;) {
    ASSIGN_OR_RETURN(Response page, list(request));
    for (const auto& item : items(page)) RETURN_IF_ERROR(fn(item));
    if (page.next_page_token().empty()) return absl::OkStatus();
    request.set_page_token(page.next_page_token());
  }
}

}  // namespace

#define ARCA_CATALOG_DEFINE(method, request, response, retry)                             \
  absl::StatusOr<cat::response> CatalogClient::method(const cat::request&,                 \
                                                       const CallOptions&) {              \
    return absl::UnimplementedError("this catalog client does not implement " #method); \
  }
ARCA_CATALOG_CALLS(ARCA_CATALOG_DEFINE)
#undef ARCA_CATALOG_DEFINE

absl::Status CatalogClient::ForEachJob(cat::ListJobsRequest filter,
                                       absl::FunctionRef<absl::Status(const cat::Job&)> fn,
                                       const CallOptions& call) {
  return Pages<cat::ListJobsRequest, cat::ListJobsResponse>(
      std::move(filter), [&](const cat::ListJobsRequest& r) { return ListJobs(r, call); },
      [](const cat::ListJobsResponse& p) -> auto& { return p.jobs(); }, fn);
}

absl::Status CatalogClient::ForEachFile(
    cat::ListFilesRequest request, absl::FunctionRef<absl::Status(const cat::ArtifactFile&)> fn,
    const CallOptions& call) {
  return Pages<cat::ListFilesRequest, cat::ListFilesResponse>(
      std::move(request), [&](const cat::ListFilesRequest& r) { return ListFiles(r, call); },
      [](const cat::ListFilesResponse& p) -> auto& { return p.files(); }, fn);
}

absl::Status CatalogClient::ForEachExpiredFile(
    cat::ListExpiredFilesRequest request,
    absl::FunctionRef<absl::Status(const cat::ExpiryEntry&)> fn, const CallOptions& call) {
  return Pages<cat::ListExpiredFilesRequest, cat::ListExpiredFilesResponse>(
      std::move(request),
      [&](const cat::ListExpiredFilesRequest& r) { return ListExpiredFiles(r, call); },
      [](const cat::ListExpiredFilesResponse& p) -> auto& { return p.entries(); }, fn);
}

absl::Status CatalogClient::ForEachUnreferencedBlob(
    cat::ListUnreferencedBlobsRequest request,
    absl::FunctionRef<absl::Status(const cat::BlobRef&)> fn, const CallOptions& call) {
  return Pages<cat::ListUnreferencedBlobsRequest, cat::ListUnreferencedBlobsResponse>(
      std::move(request),
      [&](const cat::ListUnreferencedBlobsRequest& r) { return ListUnreferencedBlobs(r, call); },
      [](const cat::ListUnreferencedBlobsResponse& p) -> auto& { return p.blobs(); }, fn);
}

absl::Status CatalogClient::ForEachPack(cat::ListPacksRequest request,
                                        absl::FunctionRef<absl::Status(const cat::Pack&)> fn,
                                        const CallOptions& call) {
  return Pages<cat::ListPacksRequest, cat::ListPacksResponse>(
      std::move(request), [&](const cat::ListPacksRequest& r) { return ListPacks(r, call); },
      [](const cat::ListPacksResponse& p) -> auto& { return p.packs(); }, fn);
}

absl::Status CatalogClient::ForEachArtifact(
    cat::ListJobArtifactsRequest request,
    absl::FunctionRef<absl::Status(const cat::JobArtifact&)> fn, const CallOptions& call) {
  return Pages<cat::ListJobArtifactsRequest, cat::ListJobArtifactsResponse>(
      std::move(request),
      [&](const cat::ListJobArtifactsRequest& r) { return ListJobArtifacts(r, call); },
      [](const cat::ListJobArtifactsResponse& p) -> auto& { return p.artifacts(); }, fn);
}

absl::Status CatalogClient::ForEachArtifactName(
    cat::ListJobArtifactNamesRequest request,
    absl::FunctionRef<absl::Status(const std::string&)> fn, const CallOptions& call) {
  return Pages<cat::ListJobArtifactNamesRequest, cat::ListJobArtifactNamesResponse>(
      std::move(request),
      [&](const cat::ListJobArtifactNamesRequest& r) { return ListJobArtifactNames(r, call); },
      [](const cat::ListJobArtifactNamesResponse& p) -> auto& { return p.names(); }, fn);
}

absl::Status CatalogClient::ForEachBlobRef(const std::vector<std::string>& sha256s,
                                           absl::FunctionRef<absl::Status(const cat::BlobRef&)> fn,
                                           const CallOptions& call) {
  constexpr size_t kRefsPerCall = 10000;  // GetBlobRefs' limit
  for (size_t at = 0; at < sha256s.size(); at += kRefsPerCall) {
    cat::GetBlobRefsRequest request;
    for (size_t i = at; i < std::min(sha256s.size(), at + kRefsPerCall); ++i) {
      request.add_sha256s(sha256s[i]);
    }
    ASSIGN_OR_RETURN(cat::GetBlobRefsResponse refs, GetBlobRefs(request, call));
    for (const cat::BlobRef& ref : refs.blobs()) RETURN_IF_ERROR(fn(ref));
  }
  return absl::OkStatus();
}

}  // namespace arca::clients
