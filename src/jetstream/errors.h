// The JetStream error catalogue (jetstream-api.md §1.2) as data: one table of
// (id, HTTP-like code, err_code, description) that the API handlers, the
// publish path and the tests share. Descriptions keep nats-server's texts;
// a "{}" in a description is replaced by the detail the caller supplies
// (e.g. 10071 "wrong last sequence: {}", 10052 "{}").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sluice::jetstream {

enum class ErrorId : uint16_t {
  kBadRequest,                  // 10003
  kClusterRequired,             // 10010
  kConsumerCreate,              // 10012 (detail)
  kConsumerNotFound,            // 10014
  kInsufficientResources,       // 10023
  kInvalidJson,                 // 10025
  kMaximumStreamsLimit,         // 10027
  kMemoryResourcesExceeded,     // 10028
  kMirrorWithSubjects,          // 10034
  kNoMessageFound,              // 10037
  kNotEmptyRequest,             // 10038
  kNotEnabledForAccount,        // 10039
  kSequenceNotFound,            // 10043 (detail: the sequence)
  kStorageResourcesExceeded,    // 10047
  kStreamTemplateNotFound,      // 10049 (detail)
  kStreamGeneralError,          // 10051 (detail)
  kStreamInvalidConfig,         // 10052 (detail)
  kStreamMessageExceedsMaximum, // 10054
  kStreamMirrorNotUpdatable,    // 10055
  kStreamMismatch,              // 10056
  kStreamMsgDeleteFailed,       // 10057 (detail)
  kStreamNameInUse,             // 10058
  kStreamNotFound,              // 10059
  kStreamNotMatch,              // 10060
  kStreamSubjectOverlap,        // 10065
  kStreamWrongLastMsgId,        // 10070 (detail: the last msg id)
  kStreamWrongLastSequence,     // 10071 (detail: the actual sequence)
  kStreamReplicasNotSupported,  // 10074
  kNotEnabled,                  // 10076
  kStreamStoreFailed,           // 10077 (detail: the store error)
  kStreamHeaderExceedsMaximum,  // 10097
  kStreamSealed,                // 10109
  kStreamPurgeFailed,           // 10110
  kStreamRollupFailed,          // 10111
  kStreamNameContainsPathSeparators,  // 10128
  // Consumers (appended: ids are not in err_code order; the table is).
  kConsumerNameInUse,            // 10013
  kConsumerDurableNameNotInSubject,  // 10016
  kConsumerDurableNameNotMatchSubject,  // 10017
  kConsumerDurableNameNotSet,    // 10018
  kConsumerEphemeralWithDurableInSubject,  // 10019
  kConsumerEphemeralWithDurableName,  // 10020
  kConsumerConfigRequired,       // 10078
  kConsumerPushMaxWaiting,       // 10080
  kConsumerDeliverCycle,         // 10081
  kConsumerMaxPendingAckPolicyRequired,  // 10082
  kConsumerPullRequiresAck,      // 10084
  kConsumerPullWithRateLimit,    // 10086
  kConsumerMaxWaitingNegative,   // 10087
  kConsumerHeartbeatRequiresPush,  // 10088
  kConsumerFlowControlRequiresPush,  // 10089
  kConsumerFilterNotSubset,      // 10093
  kConsumerInvalidPolicy,        // 10094 (detail)
  kConsumerWQRequiresExplicitAck,  // 10098
  kConsumerWQMultipleUnfiltered, // 10099
  kConsumerWQConsumerNotUnique,  // 10100
  kConsumerWQConsumerNotDeliverAll,  // 10101
  kConsumerNameTooLong,          // 10102
  kConsumerBadDurableName,       // 10103
  kConsumerDescriptionTooLong,   // 10107
  kConsumerMaxRequestExpiresTooSmall,  // 10115
  kConsumerMaxDeliverBackoff,    // 10116
  kConsumerNameContainsPathSeparators,  // 10127
  kConsumerCreateFilterSubjectMismatch,  // 10131
  kConsumerCreateDurableAndNameMismatch,  // 10132
  kConsumerDuplicateFilterSubjects,  // 10136
  kConsumerMultipleFiltersNotAllowed,  // 10137
  kConsumerOverlappingSubjectFilters,  // 10138
  kConsumerEmptyFilter,          // 10139
  kConsumerAlreadyExists,        // 10148
  kConsumerDoesNotExist,         // 10149
  kMessageTtlInvalid,            // 10165
  kMessageTtlDisabled,           // 10166
  kConsumerDeliverToWildcards,   // 10079
  kConsumerSmallHeartbeat,       // 10083
  kConsumerFlowControlNeedsHeartbeats,  // 10108
  kConsumerInvalidDeliverSubject,  // 10112
  kMaximumConsumersLimit,        // 10026
  kConsumerInvalidSampling,      // 10095 (detail: Go's Atoi error)
  kConsumerStoreFailed,          // 10104 (detail: the store error)
  kConsumerPriorityPolicyWithoutGroup,  // 10159
  kConsumerInvalidPriorityGroup,  // 10160
  kConsumerEmptyGroupName,       // 10161
  kConsumerInvalidGroupName,     // 10162
  kConsumerPushWithPriorityGroup,  // 10178
  kLastId = kConsumerPushWithPriorityGroup,
};

struct ErrorEntry {
  ErrorId id;
  int code;       // HTTP-like
  int err_code;   // the stable NATS code clients switch on
  const char* description;  // "{}" marks where the detail goes
};

// The whole table, in err_code order.
std::span<const ErrorEntry> ErrorCatalogue();
const ErrorEntry& LookupError(ErrorId id);

// An error ready for a response: the catalogue entry with its detail filled in.
struct ApiError {
  int code = 0;
  int err_code = 0;
  std::string description;
  bool ok() const { return err_code == 0; }
};

ApiError MakeError(ErrorId id, std::string_view detail = {});

}  // namespace sluice::jetstream
