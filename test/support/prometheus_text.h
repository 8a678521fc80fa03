#pragma once
// A strict parser of the Prometheus text exposition format 0.0.4, for tests of /metrics.
#include <string>

namespace talus::test {}  // namespace talus::test
