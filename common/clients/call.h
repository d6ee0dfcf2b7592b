#ifndef ARCA_COMMON_CLIENTS_CALL_H_
#define ARCA_COMMON_CLIENTS_CALL_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace arca::clients {

// How a client calls its peer, fixed when it is made.
struct ClientOptions {
  // The peer as errors name it. A call that was not answered says so the
  // same way for every peer: UNAVAILABLE "<name> is unavailable: <detail>",
  // DEADLINE_EXCEEDED "<name> did not answer in time". Every other code is
  // the peer's own answer, unchanged.
  std::string name;
  // Deadline of each call, retries included; CallOptions may override it.
  absl::Duration timeout = absl::Seconds(10);
  // Tries of an idempotent call that failed with UNAVAILABLE (the peer was
  // not reached, or went away), with backoff from 50 ms, within the deadline.
  int attempts = 3;
  // For callers outside the suite (the gateway's): UNAVAILABLE says only
  // "<name> is unavailable; try again in a moment". The detail, which may
  // name internal addresses, goes to the log instead.
  bool public_errors = false;
};

// One call's particulars.
struct CallOptions {
  // The user the call acts for (a service acting for a user, checked by the
  // peer); empty: the service itself. Must outlive the call.
  absl::string_view act_for;
  // Zero: the client's timeout.
  absl::Duration timeout = absl::ZeroDuration();
};

// A call that acts for `user` (none when empty).
inline CallOptions ActingFor(absl::string_view user) {
  CallOptions call;
  call.act_for = user;
  return call;
}

}  // namespace arca::clients

#endif  // ARCA_COMMON_CLIENTS_CALL_H_
