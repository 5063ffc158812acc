#include "jetstream/errors.h"

#include <array>

namespace sluice::jetstream {
namespace {

constexpr std::array kCatalogue = {
    ErrorEntry{ErrorId::kBadRequest, 400, 10003, "bad request"},
    ErrorEntry{ErrorId::kClusterRequired, 503, 10010, "JetStream clustering support required"},
    ErrorEntry{ErrorId::kConsumerCreate, 500, 10012, "{}"},
    ErrorEntry{ErrorId::kConsumerNameInUse, 400, 10013, "consumer name already in use"},
    ErrorEntry{ErrorId::kConsumerNotFound, 404, 10014, "consumer not found"},
    ErrorEntry{ErrorId::kConsumerDurableNameNotInSubject, 400, 10016, "consumer expected to be durable but no durable name set in subject"},
    ErrorEntry{ErrorId::kConsumerDurableNameNotMatchSubject, 400, 10017, "consumer name in subject does not match durable name in request"},
    ErrorEntry{ErrorId::kConsumerDurableNameNotSet, 400, 10018, "consumer expected to be durable but a durable name was not set"},
    ErrorEntry{ErrorId::kConsumerEphemeralWithDurableInSubject, 400, 10019, "consumer expected to be ephemeral but detected a durable name set in subject"},
    ErrorEntry{ErrorId::kConsumerEphemeralWithDurableName, 400, 10020, "consumer expected to be ephemeral but a durable name was set in request"},
    ErrorEntry{ErrorId::kInsufficientResources, 503, 10023, "insufficient resources"},
    ErrorEntry{ErrorId::kInvalidJson, 400, 10025, "invalid JSON"},
    ErrorEntry{ErrorId::kMaximumConsumersLimit, 400, 10026, "maximum consumers limit reached"},
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
    ErrorEntry{ErrorId::kConsumerConfigRequired, 400, 10078, "consumer config required"},
    ErrorEntry{ErrorId::kConsumerDeliverToWildcards, 400, 10079, "consumer deliver subject has wildcards"},
    ErrorEntry{ErrorId::kConsumerPushMaxWaiting, 400, 10080, "consumer in push mode can not set max waiting"},
    ErrorEntry{ErrorId::kConsumerDeliverCycle, 400, 10081, "consumer deliver subject forms a cycle"},
    ErrorEntry{ErrorId::kConsumerMaxPendingAckPolicyRequired, 400, 10082, "consumer requires ack policy for max ack pending"},
    ErrorEntry{ErrorId::kConsumerSmallHeartbeat, 400, 10083, "consumer idle heartbeat needs to be >= 100ms"},
    ErrorEntry{ErrorId::kConsumerPullRequiresAck, 400, 10084, "consumer in pull mode requires explicit ack policy on workqueue stream"},
    ErrorEntry{ErrorId::kConsumerPullWithRateLimit, 400, 10086, "consumer in pull mode can not have rate limit set"},
    ErrorEntry{ErrorId::kConsumerMaxWaitingNegative, 400, 10087, "consumer max waiting needs to be positive"},
    ErrorEntry{ErrorId::kConsumerHeartbeatRequiresPush, 400, 10088, "consumer idle heartbeat requires a push based consumer"},
    ErrorEntry{ErrorId::kConsumerFlowControlRequiresPush, 400, 10089, "consumer flow control requires a push based consumer"},
    ErrorEntry{ErrorId::kConsumerFilterNotSubset, 400, 10093, "consumer filter subject is not a valid subset of the interest subjects"},
    ErrorEntry{ErrorId::kConsumerInvalidPolicy, 400, 10094, "{}"},
    ErrorEntry{ErrorId::kConsumerInvalidSampling, 400, 10095, "failed to parse consumer sampling configuration: {}"},
    ErrorEntry{ErrorId::kStreamHeaderExceedsMaximum, 400, 10097, "header size exceeds maximum allowed of 64k"},
    ErrorEntry{ErrorId::kConsumerWQRequiresExplicitAck, 400, 10098, "workqueue stream requires explicit ack"},
    ErrorEntry{ErrorId::kConsumerWQMultipleUnfiltered, 400, 10099, "multiple non-filtered consumers not allowed on workqueue stream"},
    ErrorEntry{ErrorId::kConsumerWQConsumerNotUnique, 400, 10100, "filtered consumer not unique on workqueue stream"},
    ErrorEntry{ErrorId::kConsumerWQConsumerNotDeliverAll, 400, 10101, "consumer must be deliver all on workqueue stream"},
    ErrorEntry{ErrorId::kConsumerNameTooLong, 400, 10102, "consumer name is too long, maximum allowed is 255"},
    ErrorEntry{ErrorId::kConsumerBadDurableName, 400, 10103, "durable name can not contain '.', '*', '>'"},
    ErrorEntry{ErrorId::kConsumerStoreFailed, 500, 10104, "error creating store for consumer: {}"},
    ErrorEntry{ErrorId::kConsumerDescriptionTooLong, 400, 10107, "consumer description is too long, maximum allowed is 4096"},
    ErrorEntry{ErrorId::kConsumerFlowControlNeedsHeartbeats, 400, 10108, "consumer with flow control also needs heartbeats"},
    ErrorEntry{ErrorId::kStreamSealed, 400, 10109, "invalid operation on sealed stream"},
    ErrorEntry{ErrorId::kStreamPurgeFailed, 500, 10110, "stream purge not permitted"},
    ErrorEntry{ErrorId::kStreamRollupFailed, 500, 10111, "rollup not permitted"},
    ErrorEntry{ErrorId::kConsumerInvalidDeliverSubject, 400, 10112, "invalid push consumer deliver subject"},
    ErrorEntry{ErrorId::kConsumerMaxRequestExpiresTooSmall, 400, 10115, "consumer max request expires needs to be >= 1ms"},
    ErrorEntry{ErrorId::kConsumerMaxDeliverBackoff, 400, 10116, "max deliver is required to be > length of backoff values"},
    ErrorEntry{ErrorId::kConsumerNameContainsPathSeparators, 400, 10127, "Consumer name can not contain path separators"},
    ErrorEntry{ErrorId::kStreamNameContainsPathSeparators, 400, 10128, "Stream name can not contain path separators"},
    ErrorEntry{ErrorId::kConsumerCreateFilterSubjectMismatch, 400, 10131, "Consumer create request did not match filtered subject from create subject"},
    ErrorEntry{ErrorId::kConsumerCreateDurableAndNameMismatch, 400, 10132, "Consumer Durable and Name have to be equal if both are provided"},
    ErrorEntry{ErrorId::kConsumerDuplicateFilterSubjects, 400, 10136, "consumer cannot have both FilterSubject and FilterSubjects specified"},
    ErrorEntry{ErrorId::kConsumerMultipleFiltersNotAllowed, 400, 10137, "consumer with multiple subject filters cannot use subject based API"},
    ErrorEntry{ErrorId::kConsumerOverlappingSubjectFilters, 400, 10138, "consumer subject filters cannot overlap"},
    ErrorEntry{ErrorId::kConsumerEmptyFilter, 400, 10139, "consumer filter in FilterSubjects cannot be empty"},
    ErrorEntry{ErrorId::kConsumerAlreadyExists, 400, 10148, "consumer already exists"},
    ErrorEntry{ErrorId::kConsumerDoesNotExist, 400, 10149, "consumer does not exist"},
    ErrorEntry{ErrorId::kConsumerPriorityPolicyWithoutGroup, 400, 10159, "Setting PriorityPolicy requires at least one PriorityGroup to be set"},
    ErrorEntry{ErrorId::kConsumerInvalidPriorityGroup, 400, 10160, "Provided priority group does not exist for this consumer"},
    ErrorEntry{ErrorId::kConsumerEmptyGroupName, 400, 10161, "Group name cannot be an empty string"},
    ErrorEntry{ErrorId::kConsumerInvalidGroupName, 400, 10162, "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters"},
    ErrorEntry{ErrorId::kMessageTtlInvalid, 400, 10165, "invalid per-message TTL"},
    ErrorEntry{ErrorId::kMessageTtlDisabled, 400, 10166, "per-message TTL is disabled"},
    ErrorEntry{ErrorId::kConsumerPushWithPriorityGroup, 400, 10178, "priority groups can not be used with push consumers"},
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
