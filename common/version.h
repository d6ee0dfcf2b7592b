#ifndef ARCA_COMMON_VERSION_H_
#define ARCA_COMMON_VERSION_H_

namespace arca {

// Arca's release, the one version every binary reports.
inline constexpr char kVersion[] = "0.2.0";

// The gRPC metadata every Arca server's answers carry kVersion in.
inline constexpr char kVersionHeader[] = "arca-version";

}  // namespace arca

#endif  // ARCA_COMMON_VERSION_H_
