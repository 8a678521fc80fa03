// talus-fsx on a talus-fuse mount without the kernel's caches (no writeback cache, attribute and
// entry timeouts 0), where every read and write reaches the daemon, and with O_DIRECT: 5,000
// operations over two seeds (with fuse_fsx_test's: over 20,000).
#include "test/fuse/fsx_runner.h"

namespace talus::test {
namespace {

class FuseFsxNoCacheTest : public FsxTest {
 protected:
  static void SetUpTestSuite() {
    FuseClusterOptions options;
    options.fuse_flags = {"--writeback_cache=false", "--attr_timeout_ms=0", "--entry_timeout_ms=0"};
    StartShared(options);
  }
  static void TearDownTestSuite() { StopShared(); }
};

TEST_F(FuseFsxNoCacheTest, RandomOperationsWithoutCaches) {
  RunFsx(P("fsx5"), T("fsx5"), 5, 2500, {"--max_file_bytes=2097152"});
  if (HasFailure()) return;
  // O_DIRECT: the kernel's page cache is bypassed too.
  RunFsx(P("fsx6"), T("fsx6"), 6, 2500, {"--odirect", "--max_file_bytes=1048576"});
}

}  // namespace
}  // namespace talus::test
