#ifndef ARCA_COMMON_STATUS_MACROS_H_
#define ARCA_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// RETURN_IF_ERROR(expr): returns the status of expr if it is not OK.
#define RETURN_IF_ERROR(expr)                              \
  do {                                                     \
    ::absl::Status arca_status_ = (expr);                  \
    if (!arca_status_.ok()) return arca_status_;           \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): evaluates the StatusOr expr; returns its status
// on error, otherwise moves its value into lhs (which may be a declaration).
#define ARCA_CONCAT_INNER_(a, b) a##b
#define ARCA_CONCAT_(a, b) ARCA_CONCAT_INNER_(a, b)
#define ASSIGN_OR_RETURN(lhs, expr) \
  ARCA_ASSIGN_OR_RETURN_IMPL_(ARCA_CONCAT_(arca_statusor_, __LINE__), lhs, expr)
#define ARCA_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // ARCA_COMMON_STATUS_MACROS_H_
