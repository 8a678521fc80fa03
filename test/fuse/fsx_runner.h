#pragma once

// The fixture of the fsx tests: runs talus-fsx (random writes, truncates, reads, mapped reads and
// writes, fsync, close and reopen, checked byte for byte against a model) on a file in a mount and
// checks the file again behind the mount through the client API.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "test/fuse/fuse_test_util.h"
#include "test/support/client_data_util.h"

namespace talus::test {

class FsxTest : public SharedFuseTest {
 protected:
  // Runs talus-fsx on `file` (in `mount_dir`, seen as `talus_path` behind the mount) and checks
  // its exit and the file behind the mount.
  void RunFsx(const std::string& file, const std::string& talus_path, uint64_t seed, int ops,
              const std::vector<std::string>& extra) {
    const std::string model = fc().scratch() + "/model." + std::to_string(seed);
    // --verbose: on a hang, the last operations printed tell where it stopped.
    std::vector<std::string> args = {"--file=" + file, "--seed=" + std::to_string(seed),
                                     "--ops=" + std::to_string(ops), "--model_out=" + model,
                                     "--verbose"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = RunCommand(BinDir() + "/talus-fsx", args, {}, "", std::chrono::seconds(120));
    const std::string tail = r.out.size() <= 1500 ? r.out : r.out.substr(r.out.size() - 1500);
    EXPECT_EQ(r.exit_code, 0) << "talus-fsx seed " << seed << ": exit " << r.exit_code
                              << "\nlast operations:\n" << tail << "\nstderr:\n" << r.err
                              << "\ntalus-fuse log:\n" << fc().mount().LogTail();
    const size_t last_line = r.out.rfind("talus-fsx:");
    if (last_line != std::string::npos) std::cout << r.out.substr(last_line);
    if (r.exit_code != 0) return;
    std::ifstream in(model, std::ios::binary);
    std::stringstream want;
    want << in.rdbuf();
    Result<std::string> behind = ReadWholeFile(fs(), talus_path);
    ASSERT_TRUE(behind.ok()) << behind.status();
    EXPECT_SAME_BYTES(*behind, want.str());
  }
};

}  // namespace talus::test
