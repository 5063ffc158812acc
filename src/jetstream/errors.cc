#include "jetstream/errors.h"

#include <array>

namespace sluice::jetstream {
namespace {

constexpr std::array kCatalogue = {
    ErrorEntry{ErrorId::kBadRequest, 400, 10003, "bad request"},
    ErrorEntry{ErrorId::kClusterRequired, 503, 10010, "JetStream clustering support required"},
    ErrorEntry{ErrorId::kConsumerCreate, 500, 10012, "{}"},
    ErrorEntry{ErrorId::kConsumerNotFound, 404, 10014, "consumer not found"},
    ErrorEntry{ErrorId::kInsufficientResources, 503, 10023, "insufficient resources"},
    ErrorEntry{ErrorId::kInvalidJson, 400, 10025, "invalid JSON"},
    ErrorEntry{ErrorId::kMaximumStreamsLimit, 400, 10027, "maximum number of streams reached"},
    ErrorEntry{ErrorId::kMemoryResourcesExceeded, 500, 10028, "insufficient memory resources available"},
    ErrorEntry{ErrorId::kMirrorWithSubjects, 400, 10034, "stream mirrors can not contain subjects"},
    ErrorEntry{ErrorId::kNoMessageFound, 404, 10037, "no message found"},
    ErrorEntry{ErrorId::kNotEmptyRequest, 400, 10038, "expected an empty request payload"},
    ErrorEntry{ErrorId::kNotEnabledForAccount, 503, 10039, "JetStream not enabled for account"},
    ErrorEntry{ErrorId::kSequenceNotFound, 400, 10043, "sequence {} not found"},
    ErrorEntry{ErrorId::kStorageResourcesExceeded, 500, 10047, "insufficient storage resources available"},
    ErrorEntry{ErrorId::kStreamTemplateNotFound, 500, 10049, "{}"},
    ErrorEntry{ErrorId::kStreamGeneralError, 500, 10051, "{}"},
    ErrorEntry{ErrorId::kStreamInvalidConfig, 500, 10052, "{}"},
    ErrorEntry{ErrorId::kStreamMessageExceedsMaximum, 400, 10054, "message size exceeds maximum allowed"},
    ErrorEntry{ErrorId::kStreamMirrorNotUpdatable, 400, 10055, "stream mirror configuration can not be updated"},
    ErrorEntry{ErrorId::kStreamMismatch, 400, 10056, "stream name in subject does not match request"},
    ErrorEntry{ErrorId::kStreamMsgDeleteFailed, 500, 10057, "{}"},
    ErrorEntry{ErrorId::kStreamNameInUse, 400, 10058, "stream name already in use with a different configuration"},
    ErrorEntry{ErrorId::kStreamNotFound, 404, 10059, "stream not found"},
    ErrorEntry{ErrorId::kStreamNotMatch, 400, 10060, "expected stream does not match"},
    ErrorEntry{ErrorId::kStreamSubjectOverlap, 400, 10065, "subjects overlap with an existing stream"},
    ErrorEntry{ErrorId::kStreamWrongLastMsgId, 400, 10070, "wrong last msg ID: {}"},
    ErrorEntry{ErrorId::kStreamWrongLastSequence, 400, 10071, "wrong last sequence: {}"},
    ErrorEntry{ErrorId::kStreamReplicasNotSupported, 500, 10074, "replicas > 1 not supported in non-clustered mode"},
    ErrorEntry{ErrorId::kNotEnabled, 503, 10076, "JetStream not enabled"},
    ErrorEntry{ErrorId::kStreamStoreFailed, 503, 10077, "{}"},
    ErrorEntry{ErrorId::kStreamHeaderExceedsMaximum, 400, 10097, "header size exceeds maximum allowed of 64k"},
    ErrorEntry{ErrorId::kStreamSealed, 400, 10109, "invalid operation on sealed stream"},
    ErrorEntry{ErrorId::kStreamPurgeFailed, 500, 10110, "stream purge not permitted"},
    ErrorEntry{ErrorId::kStreamRollupFailed, 500, 10111, "rollup not permitted"},
    ErrorEntry{ErrorId::kStreamNameContainsPathSeparators, 400, 10128, "Stream name can not contain path separators"},
};

}  // namespace

std::span<const ErrorEntry> ErrorCatalogue() { return kCatalogue; }

const ErrorEntry& LookupError(ErrorId id) {
  for (const auto& e : kCatalogue) {
    if (e.id == id) return e;
  }
  return kCatalogue[0];  // unreachable: every id has an entry (tested)
}

ApiError MakeError(ErrorId id, std::string_view detail) {
  const ErrorEntry& e = LookupError(id);
  std::string text = e.description;
  if (auto pos = text.find("{}"); pos != std::string::npos) text.replace(pos, 2, detail);
  return ApiError{e.code, e.err_code, std::move(text)};
}

}  // namespace sluice::jetstream
