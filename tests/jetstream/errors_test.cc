#include <gtest/gtest.h>

#include <set>

#include "jetstream/errors.h"

namespace sluice::jetstream {
namespace {

TEST(ErrorCatalogue, EveryIdHasOneEntryAndCodesAreUnique) {
  std::set<int> codes;
  std::set<ErrorId> ids;
  for (const auto& e : ErrorCatalogue()) {
    EXPECT_TRUE(codes.insert(e.err_code).second) << e.err_code;
    EXPECT_TRUE(ids.insert(e.id).second) << e.err_code;
    EXPECT_EQ(LookupError(e.id).err_code, e.err_code);
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(ErrorId::kLastId) + 1);
}

TEST(ErrorCatalogue, TextsFollowNatsServer) {
  struct Case {
    ErrorId id;
    std::string detail;
    int code, err_code;
    std::string text;
  };
  const Case cases[] = {
      {ErrorId::kStreamNotFound, "", 404, 10059, "stream not found"},
      {ErrorId::kStreamWrongLastSequence, "7", 400, 10071, "wrong last sequence: 7"},
      {ErrorId::kStreamWrongLastMsgId, "", 400, 10070, "wrong last msg ID: "},
      {ErrorId::kStreamInvalidConfig, "maximum replicas is 5", 500, 10052, "maximum replicas is 5"},
      {ErrorId::kStreamStoreFailed, "maximum messages exceeded", 503, 10077, "maximum messages exceeded"},
      {ErrorId::kSequenceNotFound, "3", 400, 10043, "sequence 3 not found"},
      {ErrorId::kStreamNameInUse, "", 400, 10058, "stream name already in use with a different configuration"},
      {ErrorId::kStreamSubjectOverlap, "", 400, 10065, "subjects overlap with an existing stream"},
      {ErrorId::kStreamSealed, "", 400, 10109, "invalid operation on sealed stream"},
      {ErrorId::kInvalidJson, "", 400, 10025, "invalid JSON"},
      {ErrorId::kNotEmptyRequest, "", 400, 10038, "expected an empty request payload"},
      {ErrorId::kConsumerPriorityPolicyWithoutGroup, "", 400, 10159,
       "Setting PriorityPolicy requires at least one PriorityGroup to be set"},
      {ErrorId::kConsumerInvalidPriorityGroup, "", 400, 10160, "Provided priority group does not exist for this consumer"},
      {ErrorId::kConsumerPushWithPriorityGroup, "", 400, 10178, "priority groups can not be used with push consumers"},
  };
  for (const auto& c : cases) {
    ApiError e = MakeError(c.id, c.detail);
    EXPECT_EQ(e.code, c.code) << c.text;
    EXPECT_EQ(e.err_code, c.err_code) << c.text;
    EXPECT_EQ(e.description, c.text);
  }
}

}  // namespace
}  // namespace sluice::jetstream
