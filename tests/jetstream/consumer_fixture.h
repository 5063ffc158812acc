// The ConsumerTest fixture: JetStreamImpl driven through HandleApi with a
// fake Publisher, a capturing inbox sink on the router and a ManualClock.
// Shared by the consumer test files (consumer_*_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include "jetstream/jetstream_impl.h"

namespace sluice::jetstream::test_support {

using json = nlohmann::json;

struct Msg {
  std::string subject, reply, header, payload;
};

class Recorder : public Publisher, public router::SubscriberSink {
 public:
  void Publish(std::string_view subject, std::string_view reply, std::string_view header,
               std::string_view payload) override {
    std::lock_guard lock(mu);
    published.push_back({std::string(subject), std::string(reply), std::string(header), std::string(payload)});
  }
  bool Deliver(router::Subscription&, const router::Message& m) override {
    std::lock_guard lock(mu);
    inbox.push_back({std::string(m.subject), std::string(m.reply), std::string(m.header), std::string(m.payload)});
    return true;
  }
  void OnSubscriptionExpired(router::Subscription&) override {}
  std::vector<Msg> TakeInbox() {
    std::lock_guard lock(mu);
    return std::exchange(inbox, {});
  }
  std::vector<Msg> TakePublished() {
    std::lock_guard lock(mu);
    return std::exchange(published, {});
  }
  std::mutex mu;
  std::vector<Msg> published, inbox;
};

// Subscribes the recorder to `subject` (a plain subscription, or a queue member).
inline std::shared_ptr<router::Subscription> Listen(router::Router& router, const std::shared_ptr<Recorder>& sink,
                                                    const std::string& subject, const std::string& queue = "") {
  auto sub = std::make_shared<router::Subscription>(sink, subject, queue, "L" + subject + queue);
  router.Insert(sub);
  return sub;
}

// The messages whose subject starts with subject_prefix.
inline std::vector<Msg> Only(const std::vector<Msg>& all, const std::string& subject_prefix) {
  std::vector<Msg> out;
  for (const auto& m : all)
    if (m.subject.starts_with(subject_prefix)) out.push_back(m);
  return out;
}

// The messages without headers (deliveries, not status messages).
inline std::vector<Msg> Deliveries(const std::vector<Msg>& all) {
  std::vector<Msg> out;
  for (const auto& m : all)
    if (m.header.empty()) out.push_back(m);
  return out;
}

class ConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / (std::string("sluice-consumer-test-").append(std::to_string(::getpid())) + "-" +
                                                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    recorder_ = std::make_shared<Recorder>();
    inbox_sub_ = std::make_shared<router::Subscription>(recorder_, "inbox.>", "", "1");
    router_.Insert(inbox_sub_);
    Start();
  }
  void TearDown() override {
    js_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Start() {
    Config c;
    c.store_dir = dir_.string();
    js_ = std::make_unique<JetStreamImpl>(c, router_, *recorder_, &clock_);
    std::string error;
    ASSERT_TRUE(js_->Init(error)) << error;
  }
  // One API request handled on this thread.
  void Handle(std::string subject, std::string reply, std::string body) {
    JetStreamImpl::ApiRequest r;
    r.subject = std::move(subject);
    r.reply = std::move(reply);
    r.payload = std::move(body);
    js_->HandleApi(r);
  }
  json Api(const std::string& subject, const std::string& body) {
    recorder_->TakePublished();
    Handle("$JS.API." + subject, "api.reply", body);
    auto sent = recorder_->TakePublished();
    if (sent.empty()) return nullptr;
    return json::parse(sent.back().payload);
  }
  void Pub(const std::string& subject, const std::string& payload) {
    router::Message m{subject, "", "", payload};
    router_.Route(m, nullptr, true, cache_);
  }
  void Settle() {
    js_->dispatcher().Wake();
    js_->dispatcher().Flush();
    js_->dispatcher().Flush();
  }
  void Next(const std::string& consumer, const std::string& body) {
    Handle("$JS.API.CONSUMER.MSG.NEXT.S." + consumer, "inbox.1", body);
    Settle();
  }
  void Ack(const Msg& m, const std::string& body, const std::string& reply = "") {
    router::Message a{m.reply, reply, "", body};
    router_.Route(a, nullptr, true, cache_);
    Settle();
  }

  std::filesystem::path dir_;
  store::ManualClock clock_;
  router::Router router_;
  router::MatchCache cache_;
  std::shared_ptr<Recorder> recorder_;
  std::shared_ptr<router::Subscription> inbox_sub_;
  std::unique_ptr<JetStreamImpl> js_;
};

}  // namespace sluice::jetstream::test_support
