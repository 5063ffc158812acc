// Randomized operation sequences against a simple in-memory model, with
// clean reopens and process-crash reopens (everything written survives,
// checkpoints may be stale) in between.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "core/subject.h"
#include "store_test_util.h"

namespace sluice::store {
namespace {

struct Model {
  struct Msg {
    std::string subject, payload;
  };
  std::map<uint64_t, Msg> msgs;
  uint64_t next = 1;
  uint64_t max_msgs = 0, max_per_subject = 0;  // 0: unlimited (discard old)

  void Append(const std::string& subject, const std::string& payload) {
    if (max_per_subject) {
      uint64_t count = 0;
      for (auto& [seq, m] : msgs) count += m.subject == subject;
      for (auto it = msgs.begin(); it != msgs.end() && count >= max_per_subject;) {
        if (it->second.subject == subject) {
          it = msgs.erase(it);
          --count;
        } else {
          ++it;
        }
      }
    }
    msgs[next++] = {subject, payload};
    while (max_msgs && msgs.size() > max_msgs) msgs.erase(msgs.begin());
  }

  uint64_t Purge(const std::string& filter, uint64_t up_to, std::optional<uint64_t> keep) {
    bool all = filter.empty();
    if (all && up_to == 0 && !keep) up_to = next;
    std::vector<uint64_t> victims;
    for (auto& [seq, m] : msgs) {
      if (!all && !SubjectMatchesFilter(filter, m.subject)) continue;
      if (up_to && seq >= up_to) continue;
      victims.push_back(seq);
    }
    if (keep) victims.resize(victims.size() > *keep ? victims.size() - *keep : 0);
    for (uint64_t v : victims) msgs.erase(v);
    if (all && up_to > next) next = up_to;
    return victims.size();
  }
};

TEST(ModelTest, RandomOperationsMatchTheModel) {
  for (uint64_t seed = 1; seed <= 45; ++seed) {
    std::mt19937_64 rng(seed);
    auto fs = std::make_unique<FaultFileSystem>();
    StoreConfig c;
    c.manual_sync = true;
    c.segment_bytes = 1024 + rng() % 4096;
    c.checkpoint_bytes = 512 + rng() % 2048;
    Model model;
    if (seed % 3 == 1) {
      model.max_msgs = 5 + rng() % 40;
      c.limits.max_msgs = static_cast<int64_t>(model.max_msgs);
    }
    if (seed % 3 == 2) {
      model.max_per_subject = 1 + rng() % 3;
      c.limits.max_msgs_per_subject = static_cast<int64_t>(model.max_per_subject);
    }
    auto s = testing::MustOpen("/m", c, *fs);
    auto subject = [&] { return "m." + std::to_string(rng() % 6) + (rng() % 2 ? ".x" : ".y"); };
    for (int step = 0; step < 400; ++step) {
      int op = rng() % 100;
      if (getenv("MODEL_DEBUG")) fprintf(stderr, "seed %d step %d op %d\n", int(seed), step, op);
      if (op < 55) {
        std::string subj = subject();
        std::string payload = testing::Payload(rng(), rng() % 300);
        StatusOr<AppendResult> r = s->Append(subj, "", payload);
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->seq, model.next);
        model.Append(subj, payload);
      } else if (op < 65 && !model.msgs.empty()) {
        uint64_t q = 1 + rng() % (model.next - 1);
        Status st = s->Delete(q);
        ASSERT_EQ(st.ok(), model.msgs.erase(q) == 1) << "seed " << seed << " step " << step;
      } else if (op < 70) {
        std::string filter = rng() % 3 == 0 ? "" : (rng() % 2 ? subject() : "m.*.x");
        uint64_t up_to = rng() % 3 == 0 ? rng() % (model.next + 5) : 0;
        std::optional<uint64_t> keep;
        if (up_to == 0 && rng() % 2) keep = rng() % 5;
        StatusOr<uint64_t> n = s->Purge({filter, up_to, keep});
        if (getenv("MODEL_DEBUG")) fprintf(stderr, "purge '%s' %d %d\n", filter.c_str(), int(up_to), keep ? int(*keep) : -1);
        ASSERT_TRUE(n.ok());
        ASSERT_EQ(*n, model.Purge(filter, up_to, keep)) << "seed " << seed << " step " << step << " filter '"
                                                         << filter << "' up_to " << up_to << " keep "
                                                         << (keep ? int(*keep) : -1);
      } else if (op < 85) {
        std::string filter = rng() % 2 ? subject() : "m.>";
        uint64_t start = rng() % (model.next + 2);
        StatusOr<StoredMessage> m = s->LoadNext(filter, start);
        auto it = model.msgs.lower_bound(start);
        while (it != model.msgs.end() && !SubjectMatchesFilter(filter, it->second.subject)) ++it;
        if (it == model.msgs.end()) {
          ASSERT_EQ(m.status().code(), StatusCode::kNotFound);
        } else {
          ASSERT_TRUE(m.ok());
          ASSERT_EQ(m->seq, it->first);
          ASSERT_EQ(m->payload, it->second.payload);
        }
      } else if (op < 90) {
        std::string subj = subject();
        StatusOr<StoredMessage> m = s->LoadLast(subj);
        uint64_t want = 0;
        for (auto& [seq, msg] : model.msgs) {
          if (msg.subject == subj) want = seq;
        }
        ASSERT_EQ(m.ok() ? m->seq : 0, want);
      } else if (op < 93) {
        s->SyncPending();
      } else if (op < 96) {
        ASSERT_TRUE(s->Close().ok());
        s = testing::MustOpen("/m", c, *fs);
      } else {
        // The process dies: whatever reached the "kernel" survives.
        auto crashed = fs->CloneAfter(FaultFileSystem::Crash::kProcessCrash);
        s.reset();
        fs = std::move(crashed);
        s = testing::MustOpen("/m", c, *fs);
      }
      StoreState st = s->State();
      ASSERT_EQ(st.msgs, model.msgs.size()) << "seed " << seed << " step " << step;
      ASSERT_EQ(st.last_seq, model.next - 1) << "seed " << seed << " step " << step;
      if (!model.msgs.empty()) {
        ASSERT_EQ(st.first_seq, model.msgs.begin()->first);
      }
      std::set<std::string> subjects;
      for (auto& [seq, m] : model.msgs) subjects.insert(m.subject);
      ASSERT_EQ(st.num_subjects, subjects.size());
    }
    s.reset();
  }
}

}  // namespace
}  // namespace sluice::store
