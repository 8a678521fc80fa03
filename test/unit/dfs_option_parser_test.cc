// Option parsing of `talus dfs` commands, generic options and the error wording.
#include <gtest/gtest.h>

#include "client/shell/errors.h"
#include "client/shell/generic_options.h"
#include "client/shell/option_parser.h"

namespace talus::shell {
namespace {

using Args = std::vector<std::string>;

TEST(DfsOptionParserTest, FlagsThenArguments) {
  OptionSpec spec;
  spec.min_args = 1;
  spec.flags = {"r", "R", "f", "skipTrash"};
  Args args{"-r", "-skipTrash", "/a", "-f"};
  Result<ParsedOptions> opts = ParseOptions(spec, &args);
  ASSERT_TRUE(opts.ok()) << opts.status().ToString();
  EXPECT_TRUE(opts->Has("r"));
  EXPECT_TRUE(opts->Has("skipTrash"));
  EXPECT_FALSE(opts->Has("f"));  // options end at the first argument
  EXPECT_EQ(args, (Args{"/a", "-f"}));
}

TEST(DfsOptionParserTest, CombinedLettersDashAndDoubleDash) {
  OptionSpec spec;
  spec.flags = {"r", "f"};
  Args args{"-rf", "--", "-x", "-"};
  Result<ParsedOptions> opts = ParseOptions(spec, &args);
  ASSERT_TRUE(opts.ok());
  EXPECT_TRUE(opts->Has("r"));
  EXPECT_TRUE(opts->Has("f"));
  EXPECT_EQ(args, (Args{"-x", "-"}));
}

TEST(DfsOptionParserTest, HdfsErrorWording) {
  OptionSpec spec;
  spec.min_args = 1;
  spec.max_args = 1;
  spec.flags = {"p"};
  Args unknown{"-q", "/a"};
  EXPECT_EQ(ParseOptions(spec, &unknown).status().message(), "Illegal option -q");
  Args unknown_combined{"-pq", "/a"};
  EXPECT_EQ(ParseOptions(spec, &unknown_combined).status().message(), "Illegal option -pq");
  Args none{"-p"};
  EXPECT_EQ(ParseOptions(spec, &none).status().message(),
            "Not enough arguments: expected 1 but got 0");
  Args two{"/a", "/b"};
  EXPECT_EQ(ParseOptions(spec, &two).status().message(),
            "Too many arguments: expected 1 but got 2");
}

TEST(DfsOptionParserTest, ValueOptionsAndStopAtUnknown) {
  OptionSpec spec;
  spec.flags = {"R"};
  spec.value_options = {"t"};
  Args args{"-t", "20240101:000000", "-R", "/a"};
  Result<ParsedOptions> opts = ParseOptions(spec, &args);
  ASSERT_TRUE(opts.ok());
  EXPECT_EQ(opts->Value("t").value_or(""), "20240101:000000");
  EXPECT_TRUE(opts->Has("R"));
  Args missing{"-t"};
  EXPECT_FALSE(ParseOptions(spec, &missing).ok());

  OptionSpec chmod;
  chmod.flags = {"R"};
  chmod.stop_at_unknown = true;
  Args mode{"-R", "-w", "/a"};
  ASSERT_TRUE(ParseOptions(chmod, &mode).ok());
  EXPECT_EQ(mode, (Args{"-w", "/a"}));
}

TEST(DfsGenericOptionsTest, FsAndProperties) {
  Args args{"-fs", "talus://h:1", "-D", "talus.user=bob", "-Ddfs.replication=2",
            "-ls", "-D",          "x=y"};
  Result<GenericOptions> opts = ParseGenericOptions(args);
  ASSERT_TRUE(opts.ok());
  EXPECT_EQ(opts->consumed, 5u);
  EXPECT_EQ(opts->fs_uri, "talus://h:1");
  Result<ShellConfig> config = MakeShellConfig(*opts);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->fs_uri, "talus://h:1");
  EXPECT_EQ(config->client.user, "bob");
  EXPECT_EQ(config->client.default_replication, 2);
}

TEST(DfsGenericOptionsTest, UserOnlyWhenGiven) {
  GenericOptions none;
  EXPECT_EQ(MakeShellConfig(none)->client.user, "");  // the client library chooses
  GenericOptions given;
  given.properties = {{"talus.user", "dave"}};
  EXPECT_EQ(MakeShellConfig(given)->client.user, "dave");
}

TEST(DfsGenericOptionsTest, PropertyValues) {
  GenericOptions opts;
  opts.properties = {{"fs.permissions.umask-mode", "077"},
                     {"dfs.blocksize", "64m"},
                     {"fs.defaultFS", "talus://x:2"},
                     {"talus.client.rpc-timeout-ms", "1500"},
                     {"unknown.key", "whatever"}};
  Result<ShellConfig> config = MakeShellConfig(opts);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->client.umask, 077u);
  EXPECT_EQ(config->client.default_block_size, 64LL << 20);
  EXPECT_EQ(config->fs_uri, "talus://x:2");
  EXPECT_EQ(config->client.rpc_timeout_ms, 1500);
}

TEST(DfsGenericOptionsTest, BadInputs) {
  EXPECT_FALSE(ParseGenericOptions({"-fs"}).ok());
  EXPECT_FALSE(ParseGenericOptions({"-D"}).ok());
  EXPECT_FALSE(ParseGenericOptions({"-D", "novalue", "-ls"}).ok());
  EXPECT_FALSE(ParseGenericOptions({"-D=x", "-ls"}).ok());
  for (auto [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"dfs.replication", "0"},
                                                        {"dfs.replication", "abc"},
                                                        {"dfs.replication", "40000"},
                                                        {"dfs.blocksize", "12q"},
                                                        {"dfs.blocksize", "-5"},
                                                        {"fs.permissions.umask-mode", "999"},
                                                        {"talus.user", ""},
                                                        {"talus.client.rpc-timeout-ms", "0"}}) {
    GenericOptions opts;
    opts.properties = {{key, value}};
    Result<ShellConfig> config = MakeShellConfig(opts);
    EXPECT_FALSE(config.ok()) << key << "=" << value;
    if (!config.ok()) {
      EXPECT_NE(config.status().message().find(key), std::string::npos)
          << config.status().message();
    }
  }
}

TEST(DfsErrorsTest, HdfsMessages) {
  EXPECT_EQ(PathError("/nope", Status::NotFound("inode /nope missing")).message(),
            "`/nope': No such file or directory");
  EXPECT_EQ(PathError("/a", ErrorCode::kAlreadyExists).message(), "`/a': File exists");
  EXPECT_EQ(PathError("/a", ErrorCode::kIsADirectory).message(), "`/a': Is a directory");
  EXPECT_EQ(PathError("/f", ErrorCode::kNotADirectory).message(), "`/f': Is not a directory");
  EXPECT_EQ(PathError("/d", ErrorCode::kNotEmpty).message(), "`/d': Directory is not empty");
  EXPECT_EQ(PathError("/f", "Not a zero-length file").message(), "`/f': Not a zero-length file");
  EXPECT_EQ(PathPairError("/a", "/a/b/a", "is a subdirectory of itself").message(),
            "`/a' to `/a/b/a': is a subdirectory of itself");
}

TEST(DfsErrorsTest, PermissionAndConnectionErrorsKeepTheirOwnWords) {
  Status denied = Status::PermissionDenied(
      "Permission denied: user=bob, access=WRITE, inode=\"/a\":root:supergroup:drwxr-xr-x");
  EXPECT_EQ(PathError("/a/x", denied).message(), denied.message());
  EXPECT_EQ(PathError("/a", Status::PermissionDenied("not the owner")).message(),
            "`/a': Permission denied: not the owner");
  Status down = Status::Unavailable("127.0.0.1:1: Connection refused");
  EXPECT_EQ(PathError("/a", down).message(),
            "Cannot reach the namenode: 127.0.0.1:1: Connection refused");
  EXPECT_EQ(PathError("/x", Status::NameTooLong("component of 300 bytes")).message(),
            "`/x': File name too long: component of 300 bytes");
  EXPECT_EQ(PathError("a/../b", Status::InvalidArgument("bad \"..\"")).message(),
            "`a/../b': Invalid argument: bad \"..\"");
}

}  // namespace
}  // namespace talus::shell
