// The scenario table. Each `want` is what nats-server 2.9.10 was observed to
// send (and what the reference doc says), written out by hand so that a test
// fails even when both servers agree on something wrong.
#include <string>
#include <vector>

#include "scenario.h"

namespace sluice::difftest {
namespace {

using K = Step::Kind;

// What official clients send (nats.go style): explicit verbose/pedantic off.
const std::string kC =
    R"(CONNECT {"verbose":false,"pedantic":false,"tls_required":false,"name":"diff","lang":"c++","version":"0.0.1","protocol":1,"echo":true,"headers":true,"no_responders":true})"
    "\r\n";
const std::string kCNoHeaders = R"(CONNECT {"verbose":false,"pedantic":false,"protocol":1,"headers":false})" "\r\n";
const std::string kCVerbose = R"(CONNECT {"verbose":true,"pedantic":false,"protocol":1,"headers":true})" "\r\n";
const std::string kCPedantic = R"(CONNECT {"verbose":false,"pedantic":true,"protocol":1,"headers":true})" "\r\n";

const std::string I = kInfo;
const std::string PONG = "PONG\r\n";
const std::string OK = "+OK\r\n";
const std::string kUnknownOp = "-ERR 'Unknown Protocol Operation'\r\n";
const std::string kClosed = "<closed>";

std::string Err(const std::string& text) { return "-ERR '" + text + "'\r\n"; }

class B {
 public:
  explicit B(std::string name) { sc_.name = std::move(name); }
  B& config(std::string c) { sc_.config = std::move(c); return *this; }
  B& nosplit() { sc_.split = false; return *this; }
  B& reference_duplicates_err_when_split() { sc_.split_reference = false; return *this; }
  B& open(int k) { return add(K::kOpen, k); }
  B& open_accepted(int k) { return add(K::kOpenAccepted, k); }
  B& send(int k, std::string d) { return add(K::kSend, k, std::move(d)); }
  B& await(int k, std::string d) { return add(K::kAwait, k, std::move(d)); }
  B& sync(int k) { return add(K::kSync, k); }
  B& closed(int k) { return add(K::kClosed, k); }
  B& close(int k) { return add(K::kClose, k); }
  B& frames(int k, int n, std::map<std::string, std::string> alias = {}) {
    Step s{K::kFrames, k, "", n, std::move(alias)};
    sc_.steps.push_back(std::move(s));
    return *this;
  }
  // open + CONNECT + PING, await PONG
  B& hello(int k, const std::string& connect = kC) {
    open(k);
    send(k, connect + "PING\r\n");
    return await(k, "PONG\r\n");
  }
  B& want(int k, std::string w) { sc_.want[k] = std::move(w); return *this; }
  Scenario done() { return sc_; }

 private:
  B& add(K kind, int k, std::string d = "") {
    sc_.steps.push_back(Step{kind, k, std::move(d), 0, {}});
    return *this;
  }
  Scenario sc_;
};

// A scenario where one connection sends `bytes` right after INFO and then the
// server must close it, sending exactly `reply` first.
Scenario Closes(const std::string& name, const std::string& bytes, const std::string& reply) {
  return B(name).open(0).send(0, bytes).closed(0).want(0, I + reply + kClosed).done();
}

}  // namespace

std::vector<Scenario> AllScenarios() {
  std::vector<Scenario> v;
  const std::string hdr = "NATS/1.0\r\nA: 1\r\n\r\n";  // 18 bytes

  // ---- Handshake, verbose, pre-CONNECT defaults ------------------------------
  v.push_back(B("connect_ping_pong").hello(0).want(0, I + PONG).done());
  v.push_back(B("connect_unknown_keys_ignored_second_connect_allowed")
                  .open(0)
                  .send(0, R"(CONNECT {"verbose":false,"pedantic":false,"some_future_key":[1,{"a":2}],"x":null})" "\r\n"
                           "PING\r\n" +
                           kCVerbose + "PING\r\n")
                  .await(0, PONG)
                  .await(0, PONG)
                  .want(0, I + PONG + OK + PONG)
                  .done());
  v.push_back(B("verbose_ok_after_each_op")
                  .open(0)
                  .send(0, kCVerbose + "SUB foo 1\r\nPUB foo 2\r\nhi\r\nHPUB foo 18 20\r\n" + hdr +
                               "hi\r\nUNSUB 1\r\nUNSUB 99\r\nPUB foo 0\r\n\r\nPING\r\n")
                  .await(0, PONG)
                  .want(0, I + OK + OK + OK + "MSG foo 1 2\r\nhi\r\n" + OK + "HMSG foo 1 18 20\r\n" + hdr + "hi\r\n" +
                               OK + OK + OK + PONG)
                  .done());
  v.push_back(B("pre_connect_defaults_verbose_pedantic")
                  .reference_duplicates_err_when_split()
                  .open(0)
                  .send(0, "SUB foo 1\r\nPUB foo.* 2\r\nhi\r\nPUB foo..x 2\r\nhi\r\nPUB foo 2\r\nhi\r\nUNSUB 1\r\nPING\r\n")
                  .await(0, PONG)
                  .want(0, I + OK + Err("Invalid Publish Subject") + OK + Err("Invalid Publish Subject") + OK + OK +
                               "MSG foo 1 2\r\nhi\r\n" + OK + PONG)
                  .done());
  v.push_back(B("connect_omitted_keys_keep_defaults")
                  .reference_duplicates_err_when_split()
                  .open(0)
                  .send(0, "CONNECT {\"lang\":\"telnet\"}\r\nSUB foo 1\r\nPUB foo.> 1\r\nx\r\nPUB foo 1\r\nx\r\nPING\r\n")
                  .await(0, PONG)
                  .want(0, I + OK + OK + Err("Invalid Publish Subject") + OK + OK + "MSG foo 1 1\r\nx\r\n" + PONG)
                  .done());

  // ---- SUB / PUB / MSG ------------------------------------------------------
  v.push_back(B("pub_sub_msg_with_and_without_reply")
                  .hello(1)
                  .send(1, "SUB foo 1\r\nSUB bar 22\r\n")
                  .sync(1)
                  .hello(0)
                  .send(0, "PUB foo 5\r\nhello\r\nPUB foo reply.x 5\r\nworld\r\nPUB bar 0\r\n\r\nPUB bar r 0\r\n\r\n"
                           "PUB nobody 2\r\nhi\r\nPUB foo 4\r\na\r\nb\r\n")
                  .sync(0)
                  .sync(1)
                  .want(0, I + PONG + PONG)
                  .want(1, I + PONG + PONG + "MSG foo 1 5\r\nhello\r\nMSG foo 1 reply.x 5\r\nworld\r\n" +
                               "MSG bar 22 0\r\n\r\nMSG bar 22 r 0\r\n\r\nMSG foo 1 4\r\na\r\nb\r\n" + PONG)
                  .done());
  v.push_back(B("non_numeric_sid_utf8_subject_wildcard_queue_name")
                  .hello(0)
                  // any bytes but blanks are subject bytes; sids are opaque; queue names unchecked
                  .send(0, "SUB caf\xc3\xa9.* abc\r\nSUB caf\xc3\xa9.> q.* x-1\r\nSUB a\x01" "b 9\r\n"
                           "PUB caf\xc3\xa9.\xc3\xbc 2\r\nhi\r\n")
                  .frames(0, 2)
                  .send(0, "UNSUB abc\r\nPUB caf\xc3\xa9.\xc3\xbc 2\r\nho\r\nPUB a\x01" "b 1\r\nx\r\n")
                  .sync(0)
                  .want(0, I + PONG + "MSG caf\xc3\xa9.\xc3\xbc abc 2\r\nhi\r\nMSG caf\xc3\xa9.\xc3\xbc x-1 2\r\nhi\r\n" +
                               "MSG caf\xc3\xa9.\xc3\xbc x-1 2\r\nho\r\nMSG a\x01" "b 9 1\r\nx\r\n" + PONG)
                  .done());
  v.push_back(B("tabs_extra_blanks_and_bare_lf_on_control_lines")
                  .open(0)
                  .send(0, kC + "SUB\tfoo \t 1 \r\nPUB\tfoo\t2\r\nhi\r\nPING\nPUB  foo  r  2 \nhi\r\nPING  \r\n")
                  .await(0, PONG)
                  .await(0, PONG)
                  .want(0, I + "MSG foo 1 2\r\nhi\r\n" + PONG + "MSG foo 1 r 2\r\nhi\r\n" + PONG)
                  .done());
  v.push_back(B("case_insensitive_ops")
                  .open(0)
                  .send(0, R"(connect {"verbose":false,"pedantic":false,"headers":true})" "\r\npInG\r\nsub foo 1\r\n"
                           "Pub foo 2\r\nhi\r\nhpub foo 18 20\r\n" + hdr + "hi\r\nunSub 1\r\npub foo 1\r\nx\r\n"
                           "pong\r\nping\r\n")
                  .await(0, PONG)
                  .await(0, PONG)
                  .want(0, I + PONG + "MSG foo 1 2\r\nhi\r\nHMSG foo 1 18 20\r\n" + hdr + "hi\r\n" + PONG)
                  .done());
  v.push_back(B("ping_with_trailing_junk")
                  .open(0)
                  .send(0, kC + "PING junk\r\nPINGX\r\nPONG whatever\r\nPING\r\n")
                  .await(0, PONG)
                  .await(0, PONG)
                  .await(0, PONG)
                  .want(0, I + PONG + PONG + PONG)
                  .done());

  // ---- Headers --------------------------------------------------------------
  v.push_back(B("hpub_hmsg_and_header_size_zero")
                  .hello(1)
                  .send(1, "SUB foo 1\r\n")
                  .sync(1)
                  .hello(0)
                  .send(0, "HPUB foo 18 23\r\n" + hdr + "hello\r\nHPUB foo r.1 18 18\r\n" + hdr +
                               "\r\nHPUB foo 0 2\r\nhi\r\nHPUB foo r 0 0\r\n\r\n")
                  .sync(0)
                  .sync(1)
                  .want(1, I + PONG + PONG + "HMSG foo 1 18 23\r\n" + hdr + "hello\r\nHMSG foo 1 r.1 18 18\r\n" + hdr +
                               "\r\nMSG foo 1 2\r\nhi\r\nMSG foo 1 r 0\r\n\r\n" + PONG)
                  .done());
  v.push_back(B("headerless_subscriber_gets_header_stripped")
                  .hello(1, kCNoHeaders)
                  .send(1, "SUB foo 1\r\n")
                  .sync(1)
                  .hello(0)
                  .send(0, "HPUB foo 18 23\r\n" + hdr + "hello\r\nHPUB foo r 18 18\r\n" + hdr + "\r\nHPUB foo 0 2\r\nhi\r\n")
                  .sync(0)
                  .sync(1)
                  .want(1, I + PONG + PONG + "MSG foo 1 5\r\nhello\r\nMSG foo 1 r 0\r\n\r\nMSG foo 1 2\r\nhi\r\n" + PONG)
                  .done());

  // ---- UNSUB ----------------------------------------------------------------
  v.push_back(B("unsub_with_max")
                  .hello(0)
                  .send(0, "SUB foo 1\r\nUNSUB 1 2\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\n")
                  .sync(0)
                  // max already reached: removed at once
                  .send(0, "SUB bar 2\r\nPUB bar 1\r\nd\r\nPUB bar 1\r\ne\r\n")
                  .sync(0)
                  .send(0, "UNSUB 2 1\r\nPUB bar 1\r\nf\r\n")
                  .sync(0)
                  // 0, negative and non-numeric max: removed now, no error
                  .send(0, "SUB z 3\r\nSUB z 4\r\nSUB z 5\r\nUNSUB 3 0\r\nUNSUB 4 -1\r\nUNSUB 5 x\r\nPUB z 1\r\ng\r\n")
                  .sync(0)
                  .want(0, I + PONG + "MSG foo 1 1\r\na\r\nMSG foo 1 1\r\nb\r\n" + PONG +
                               "MSG bar 2 1\r\nd\r\nMSG bar 2 1\r\ne\r\n" + PONG + PONG + PONG)
                  .done());
  v.push_back(B("unsub_unknown_sid")
                  .open(0)
                  .send(0, kC + "UNSUB 99\r\nUNSUB abc 5\r\n")
                  .sync(0)
                  .send(0, kCVerbose + "UNSUB 99\r\n")
                  .sync(0)
                  .want(0, I + PONG + OK + OK + PONG)
                  .done());
  v.push_back(B("duplicate_sid_is_ignored")
                  .open(0)
                  .send(0, kCVerbose + "SUB foo 1\r\nSUB bar 1\r\nPUB bar 1\r\nb\r\nPUB foo 1\r\nf\r\nUNSUB 1\r\n"
                                       "PUB foo 1\r\ng\r\nPUB bar 1\r\nh\r\n")
                  .sync(0)
                  .want(0, I + OK + OK + OK + OK + OK + "MSG foo 1 1\r\nf\r\n" + OK + OK + OK + PONG)
                  .done());

  // ---- Delivery --------------------------------------------------------------
  v.push_back(B("queue_group_one_member_per_group")
                  .hello(0)
                  .send(0, "SUB foo q 1\r\nSUB foo q 2\r\nSUB foo r 3\r\nSUB foo 4\r\n"
                           "PUB foo 1\r\na\r\nPUB foo 1\r\na\r\nPUB foo 1\r\na\r\nPUB foo 1\r\na\r\n")
                  .frames(0, 12, {{"1", "Q"}, {"2", "Q"}})
                  .sync(0)
                  .want(0, I + PONG + "MSG foo 3 1\r\na\r\nMSG foo 3 1\r\na\r\nMSG foo 3 1\r\na\r\nMSG foo 3 1\r\na\r\n" +
                               "MSG foo 4 1\r\na\r\nMSG foo 4 1\r\na\r\nMSG foo 4 1\r\na\r\nMSG foo 4 1\r\na\r\n" +
                               "MSG foo Q 1\r\na\r\nMSG foo Q 1\r\na\r\nMSG foo Q 1\r\na\r\nMSG foo Q 1\r\na\r\n" + PONG)
                  .done());
  v.push_back(B("queue_group_across_connections_after_unsub")
                  .hello(1)
                  .send(1, "SUB work q 1\r\n")
                  .sync(1)
                  .hello(2)
                  .send(2, "SUB work q 7\r\n")
                  .sync(2)
                  .send(1, "UNSUB 1\r\n")
                  .sync(1)
                  .hello(0)
                  .send(0, "PUB work 1\r\n1\r\nPUB work reply 1\r\n2\r\nPUB work 1\r\n3\r\n")
                  .sync(0)
                  .await(2, "MSG work 7 1\r\n3\r\n")
                  .sync(2)
                  .sync(1)
                  .want(1, I + PONG + PONG + PONG + PONG)
                  .want(2, I + PONG + PONG + "MSG work 7 1\r\n1\r\nMSG work 7 reply 1\r\n2\r\nMSG work 7 1\r\n3\r\n" + PONG)
                  .done());
  {
    // One connection per pattern keeps each connection's order deterministic.
    const char* patterns[] = {"foo.*", "foo.>", ">", "foo.bar", "*.bar", "foo.*.baz", "*", "*.*.>"};
    B b("wildcard_delivery");
    for (int i = 0; i < 8; ++i) {
      b.hello(i + 1).send(i + 1, std::string("SUB ") + patterns[i] + " " + std::to_string(i + 1) + "\r\n").sync(i + 1);
    }
    b.hello(0).send(0, "PUB foo.bar 1\r\n1\r\nPUB foo.bar.baz 1\r\n2\r\nPUB foo 1\r\n3\r\nPUB bar.bar 1\r\n4\r\n"
                       "PUB foo.x.y.z 1\r\n5\r\n").sync(0);
    for (int i = 0; i < 8; ++i) b.sync(i + 1);
    auto m = [](const std::string& subj, int sid, const std::string& p) {
      return "MSG " + subj + " " + std::to_string(sid) + " 1\r\n" + p + "\r\n";
    };
    const std::string pre = I + PONG + PONG;
    b.want(1, pre + m("foo.bar", 1, "1") + PONG)
        .want(2, pre + m("foo.bar", 2, "1") + m("foo.bar.baz", 2, "2") + m("foo.x.y.z", 2, "5") + PONG)
        .want(3, pre + m("foo.bar", 3, "1") + m("foo.bar.baz", 3, "2") + m("foo", 3, "3") + m("bar.bar", 3, "4") +
                     m("foo.x.y.z", 3, "5") + PONG)
        .want(4, pre + m("foo.bar", 4, "1") + PONG)
        .want(5, pre + m("foo.bar", 5, "1") + m("bar.bar", 5, "4") + PONG)
        .want(6, pre + m("foo.bar.baz", 6, "2") + PONG)
        .want(7, pre + m("foo", 7, "3") + PONG)
        .want(8, pre + m("foo.bar.baz", 8, "2") + m("foo.x.y.z", 8, "5") + PONG);
    v.push_back(b.done());
  }
  v.push_back(B("one_msg_per_matching_sid_same_connection")
                  .hello(1)
                  .send(1, "SUB foo 1\r\nSUB foo 2\r\nSUB * 3\r\nSUB > 4\r\nSUB foo q 5\r\nSUB bar 6\r\n")
                  .sync(1)
                  .hello(0)
                  .send(0, "PUB foo r 2\r\nhi\r\n")
                  .sync(0)
                  .frames(1, 5)
                  .sync(1)
                  .want(1, I + PONG + PONG + "MSG foo 1 r 2\r\nhi\r\nMSG foo 2 r 2\r\nhi\r\nMSG foo 3 r 2\r\nhi\r\n" +
                               "MSG foo 4 r 2\r\nhi\r\nMSG foo 5 r 2\r\nhi\r\n" + PONG)
                  .done());
  v.push_back(B("echo_false")
                  .hello(0, R"(CONNECT {"verbose":false,"pedantic":false,"echo":false,"protocol":1,"headers":true})" "\r\n")
                  .send(0, "SUB foo 1\r\nPUB foo 4\r\nself\r\n")
                  .sync(0)
                  .hello(1)
                  .send(1, "SUB foo 1\r\nPUB foo 5\r\nother\r\n")
                  .sync(1)
                  .await(0, "other\r\n")
                  .sync(0)
                  .want(0, I + PONG + PONG + "MSG foo 1 5\r\nother\r\n" + PONG)
                  .want(1, I + PONG + "MSG foo 1 5\r\nother\r\n" + PONG)
                  .done());

  // ---- No responders ----------------------------------------------------------
  const std::string k503 = "NATS/1.0 503\r\n\r\n\r\n";
  v.push_back(B("no_responders_503")
                  .hello(0)
                  .send(0, "SUB _INBOX.x.* 1\r\nSUB _INBOX.q.* qq 2\r\n"
                           "PUB svc _INBOX.x.1 2\r\nhi\r\n"
                           "HPUB svc _INBOX.x.2 18 20\r\n" + hdr + "hi\r\n"
                           "PUB svc _INBOX.y.1 2\r\nhi\r\n"      // reply matches no sub of this connection
                           "PUB svc _INBOX.q.1 2\r\nhi\r\n"      // only a queue sub matches the reply
                           "PUB svc 2\r\nhi\r\n")                // no reply
                  .sync(0)
                  .hello(1)
                  .send(1, "SUB svc 1\r\n")
                  .sync(1)
                  .send(0, "PUB svc _INBOX.x.3 2\r\nhi\r\n")  // has a responder now
                  .sync(0)
                  .await(1, "\r\nhi\r\n")
                  .want(0, I + PONG + "HMSG _INBOX.x.1 1 16 16\r\n" + k503 + "HMSG _INBOX.x.2 1 16 16\r\n" + k503 + PONG +
                               PONG)
                  .want(1, I + PONG + PONG + "MSG svc 1 _INBOX.x.3 2\r\nhi\r\n")
                  .done());
  v.push_back(B("no_responders_needs_the_option")
                  .hello(0, R"(CONNECT {"verbose":false,"pedantic":false,"protocol":1,"headers":true})" "\r\n")
                  .send(0, "SUB _INBOX.x.* 1\r\nPUB svc _INBOX.x.1 2\r\nhi\r\n")
                  .sync(0)
                  .want(0, I + PONG + PONG)
                  .done());
  v.push_back(B("no_responders_echo_false_self_only")
                  .hello(0, R"(CONNECT {"verbose":false,"pedantic":false,"echo":false,"protocol":1,"headers":true,"no_responders":true})" "\r\n")
                  .send(0, "SUB _INBOX.e.* 1\r\nSUB svc 2\r\nPUB svc _INBOX.e.1 2\r\nhi\r\n")
                  .sync(0)
                  .want(0, I + PONG + "HMSG _INBOX.e.1 1 16 16\r\n" + k503 + PONG)
                  .done());

  // ---- Errors that close the connection -------------------------------------------
  v.push_back(Closes("err_unknown_op", kC + "FOO bar\r\n", kUnknownOp));
  v.push_back(Closes("err_op_not_at_line_start", kC + "XPING\r\n", kUnknownOp));
  v.push_back(Closes("err_leading_space", kC + " PING\r\n", kUnknownOp));
  v.push_back(Closes("err_leading_tab", kC + "\tPING\r\n", kUnknownOp));
  v.push_back(Closes("err_empty_line", kC + "PING\r\n\r\n", PONG + kUnknownOp));
  v.push_back(Closes("err_empty_line_bare_lf", kC + "PING\r\n\n", PONG + kUnknownOp));
  v.push_back(Closes("err_empty_line_before_connect", "\r\n", kUnknownOp));
  v.push_back(Closes("err_pub_without_args", kC + "PUB\r\n", kUnknownOp));
  v.push_back(Closes("err_hpub_without_args", kC + "HPUB\r\n", kUnknownOp));
  v.push_back(Closes("err_sub_without_args", kC + "SUB\r\n", kUnknownOp));
  v.push_back(Closes("err_unsub_without_args", kC + "UNSUB\r\n", kUnknownOp));
  v.push_back(Closes("err_client_msg", kC + "MSG foo 1 2\r\nhi\r\n", kUnknownOp));
  v.push_back(Closes("err_client_hmsg", kC + "HMSG foo 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", kUnknownOp));
  v.push_back(Closes("err_payload_not_followed_by_crlf", kC + "PUB foo 2\r\nhiX\r\n", kUnknownOp));
  v.push_back(Closes("err_payload_followed_by_bare_lf", kC + "PUB foo 2\r\nhi\n", kUnknownOp));
  v.push_back(Closes("err_hpub_payload_not_followed_by_crlf", kC + "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi!!", kUnknownOp));
  v.push_back(Closes("err_max_payload_pub", kC + "PUB foo 1048577\r\n", Err("Maximum Payload Violation")));
  v.push_back(Closes("err_max_payload_hpub_total", kC + "HPUB foo 1 1048577\r\n", Err("Maximum Payload Violation")));
  v.push_back(B("max_payload_exactly_is_accepted")
                  .hello(0)
                  .send(0, "SUB big 1\r\nPUB big 1048576\r\n" + std::string(1048576, 'p') + "\r\n")
                  .await(0, std::string(1048576, 'p') + "\r\n")
                  .sync(0)
                  .want(0, I + PONG + "MSG big 1 1048576\r\n" + std::string(1048576, 'p') + "\r\n" + PONG)
                  .done());
  v.push_back(B("max_payload_from_config")
                  .config("max_payload: 100\n")
                  .hello(0)
                  .send(0, "SUB foo 1\r\nPUB foo 100\r\n" + std::string(100, 'x') + "\r\n")
                  .await(0, std::string(100, 'x') + "\r\n")
                  .send(0, "PUB foo 101\r\n")
                  .closed(0)
                  .want(0, I + PONG + "MSG foo 1 100\r\n" + std::string(100, 'x') + "\r\n" +
                               Err("Maximum Payload Violation") + kClosed)
                  .done());
  {
    // The argument part (after "SUB ") is exactly 4096 / 4097 bytes.
    const std::string s4094(4094, 'a');
    v.push_back(B("control_line_4096_accepted")
                    .hello(0)
                    .send(0, "SUB " + s4094 + " 1\r\nSUB  " + s4094 + " 2\r\n")  // leading blanks do not count
                    .sync(0)
                    .want(0, I + PONG + PONG)
                    .done());
    v.push_back(Closes("err_control_line_4097", kC + "SUB " + s4094 + "1 1\r\n", Err("maximum control line exceeded")));
    v.push_back(Closes("err_control_line_trailing_blank_counts", kC + "SUB " + s4094 + " 1 \r\n",
                       Err("maximum control line exceeded")));
    v.push_back(Closes("err_control_line_unterminated", kC + "PUB " + std::string(5000, 'b'),
                       Err("maximum control line exceeded")));
    // The CONNECT JSON counts too.
    const std::string pad(4096 - std::string(R"({"verbose":false,"x":""})").size(), 'c');
    v.push_back(B("control_line_connect_4096_accepted")
                    .open(0)
                    .send(0, R"(CONNECT {"verbose":false,"x":")" + pad + "\"}\r\nPING\r\n")
                    .await(0, PONG)
                    .want(0, I + PONG)
                    .done());
    v.push_back(Closes("err_control_line_connect_4097", R"(CONNECT {"verbose":false,"x":")" + pad + "c\"}\r\nPING\r\n",
                       Err("maximum control line exceeded")));
    v.push_back(B("control_line_ping_is_not_limited")
                    .hello(0)
                    .send(0, "PING " + std::string(5000, 'j') + "\r\n")
                    .await(0, PONG)
                    .sync(0)
                    .want(0, I + PONG + PONG + PONG)
                    .done());
  }
  v.push_back(Closes("err_invalid_client_protocol", R"(CONNECT {"verbose":false,"pedantic":false,"protocol":2})" "\r\nPING\r\n",
                     Err("invalid client protocol")));
  v.push_back(Closes("err_no_responders_without_headers",
                     R"(CONNECT {"verbose":false,"pedantic":false,"protocol":1,"no_responders":true})" "\r\nPING\r\n",
                     Err("no responders requires headers support")));
  v.push_back(Closes("err_account_field", R"(CONNECT {"verbose":false,"pedantic":false,"account":"A"})" "\r\nPING\r\n",
                     Err("Authorization Violation")));
  v.push_back(Closes("err_new_account_field", R"(CONNECT {"verbose":false,"pedantic":false,"new_account":true})" "\r\nPING\r\n",
                     Err("Authorization Violation")));
  v.push_back(Closes("err_client_sends_err", kC + "-ERR 'oops'\r\nPING\r\n", ""));

  // ---- Malformed arguments: closed without -ERR -----------------------------------
  v.push_back(Closes("malformed_pub_too_many_args", kC + "PUB foo bar baz 5\r\n", ""));
  v.push_back(Closes("malformed_pub_size_not_numeric", kC + "PUB foo abc\r\n", ""));
  v.push_back(Closes("malformed_pub_size_negative", kC + "PUB foo -1\r\n", ""));
  v.push_back(Closes("malformed_sub_one_arg", kC + "SUB foo\r\n", ""));
  v.push_back(Closes("malformed_sub_four_args", kC + "SUB a b c d\r\n", ""));
  v.push_back(Closes("malformed_unsub_three_args", kC + "UNSUB 1 2 3\r\n", ""));
  v.push_back(Closes("malformed_hpub_header_bigger_than_total", kC + "HPUB foo 10 5\r\n", ""));
  v.push_back(Closes("malformed_hpub_one_size", kC + "HPUB foo 5\r\n", ""));
  v.push_back(Closes("hpub_without_headers_negotiated", kCNoHeaders + "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n", ""));
  v.push_back(Closes("hpub_before_connect", "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n", ""));
  v.push_back(Closes("invalid_connect_json", "CONNECT {bad\r\nPING\r\n", ""));
  v.push_back(Closes("connect_without_json", "CONNECT\r\n", ""));
  v.push_back(Closes("info_invalid_json", kC + "INFO {bad\r\n", ""));
  v.push_back(B("client_info_and_ok_ignored")
                  .open(0)
                  .send(0, kC + "INFO {\"server_id\":\"x\"}\r\n+OK\r\nPING\r\n")
                  .await(0, PONG)
                  .want(0, I + PONG)
                  .done());

  // ---- Errors that keep the connection ------------------------------------------
  v.push_back(B("invalid_subject_on_sub_kept")
                  .hello(0)
                  .send(0, "SUB foo..bar 1\r\nSUB foo.>.bar 2\r\nSUB .foo 3\r\nSUB foo. 4\r\nSUB ok 5\r\nPUB ok 1\r\nx\r\n")
                  .sync(0)
                  .send(0, kCVerbose + "SUB a..b 6\r\n")
                  .sync(0)
                  .want(0, I + PONG + Err("Invalid Subject") + Err("Invalid Subject") + Err("Invalid Subject") +
                               Err("Invalid Subject") + "MSG ok 5 1\r\nx\r\n" + PONG + OK + Err("Invalid Subject") + PONG)
                  .done());
  v.push_back(B("invalid_publish_subject_when_pedantic_kept")
                  .reference_duplicates_err_when_split()
                  .hello(0, kCPedantic)
                  .send(0, "SUB > 1\r\nPUB foo.* 1\r\nx\r\nPUB foo.> 1\r\nx\r\nPUB a..b 1\r\nx\r\nPUB ok 1\r\ny\r\n")
                  .sync(0)
                  // 2.9.10 does not drop the message: the -ERR is only a warning.
                  .want(0, I + PONG + Err("Invalid Publish Subject") + "MSG foo.* 1 1\r\nx\r\n" +
                               Err("Invalid Publish Subject") + "MSG foo.> 1 1\r\nx\r\n" +
                               Err("Invalid Publish Subject") + "MSG ok 1 1\r\ny\r\n" + PONG)
                  .done());
  v.push_back(B("wildcard_publish_not_checked_without_pedantic")
                  .hello(0)
                  // A wildcard token in a published subject is matched as a token
                  // by wildcard subscriptions only; empty tokens match nothing.
                  .send(0, "SUB foo.* 1\r\nSUB foo.bar 2\r\nSUB foo.> 3\r\nSUB > 4\r\nSUB *.* 5\r\nSUB foo 6\r\n"
                           "PUB foo.* 1\r\nx\r\n")
                  .frames(0, 4)
                  .send(0, "PUB foo.> 1\r\ny\r\n")
                  .frames(0, 4)
                  .send(0, "PUB foo..bar 1\r\nx\r\nPUB .foo 1\r\ny\r\nPUB foo. 1\r\nz\r\n")
                  .sync(0)
                  .want(0, I + PONG + "MSG foo.* 1 1\r\nx\r\nMSG foo.* 3 1\r\nx\r\nMSG foo.* 4 1\r\nx\r\nMSG foo.* 5 1\r\nx\r\n" +
                               "MSG foo.> 1 1\r\ny\r\nMSG foo.> 3 1\r\ny\r\nMSG foo.> 4 1\r\ny\r\nMSG foo.> 5 1\r\ny\r\n" + PONG)
                  .done());
  v.push_back(B("reserved_subject_and_reply_prefixes")
                  .hello(0)
                  .send(0, "SUB > 1\r\nPUB _GR_.x 1\r\n1\r\nPUB a _R_.x 1\r\n2\r\nPUB a $JS.ACK.x 1\r\n3\r\n"
                           "PUB a _GR_.y 1\r\n4\r\nHPUB a _R_.z 12 13\r\nNATS/1.0\r\n\r\n5\r\nPUB a $GNR.x 1\r\n6\r\n")
                  .sync(0)
                  .want(0, I + PONG + Err("Permissions Violation for Publish to \"_GR_.x\"") +
                               Err("Permissions Violation for Publish with Reply of \"_R_.x\"") +
                               Err("Permissions Violation for Publish with Reply of \"$JS.ACK.x\"") +
                               Err("Permissions Violation for Publish with Reply of \"_GR_.y\"") +
                               Err("Permissions Violation for Publish with Reply of \"_R_.z\"") +
                               "MSG a 1 $GNR.x 1\r\n6\r\n" + PONG)
                  .done());
  v.push_back(B("queue_named_sys_refused_kept")
                  .hello(0)
                  .send(0, "SUB q _sys_ 1\r\nSUB q 2\r\nPUB q 1\r\nx\r\n")
                  .sync(0)
                  .want(0, I + PONG + Err("Permissions Violation for Subscription to \"q\" using queue \"_sys_\"") +
                               "MSG q 2 1\r\nx\r\n" + PONG)
                  .done());
  v.push_back(B("max_subscriptions_exceeded_kept")
                  .config("max_subscriptions: 2\n")
                  .open(0)
                  .send(0, kCVerbose + "SUB a 1\r\nSUB b 2\r\nSUB c 3\r\n")
                  .sync(0)
                  // a duplicate sid at the limit is refused with the same error
                  .send(0, "SUB a 1\r\nUNSUB 1\r\nSUB c 4\r\nPUB c 1\r\nx\r\n")
                  .sync(0)
                  .want(0, I + OK + OK + OK + Err("maximum subscriptions exceeded") + PONG +
                               Err("maximum subscriptions exceeded") + OK + OK + OK + "MSG c 4 1\r\nx\r\n" + PONG)
                  .done());

  // ---- Connections -----------------------------------------------------------
  v.push_back(B("client_vanishing_mid_payload")
                  .nosplit()
                  .hello(1)
                  .send(1, "SUB foo 1\r\n")
                  .sync(1)
                  .hello(0)
                  .send(0, "PUB foo 10\r\nhel")
                  .sync(1)
                  .close(0)
                  .hello(2)
                  .send(2, "PUB foo 2\r\nok\r\n")
                  .sync(2)
                  .sync(1)
                  .want(1, I + PONG + PONG + PONG + "MSG foo 1 2\r\nok\r\n" + PONG)
                  .want(2, I + PONG + PONG)
                  .done());
  v.push_back(B("max_connections_exceeded")
                  .nosplit()
                  .config("max_connections: 1\n")
                  .open_accepted(0)
                  .open(1)
                  .closed(1)
                  .sync(0)
                  .want(0, I + PONG + PONG)
                  .want(1, I + Err("maximum connections exceeded") + kClosed)
                  .done());
  v.push_back(B("stale_connection")
                  .nosplit()
                  .config("ping_interval: \"100ms\"\nping_max: 2\n")
                  .hello(0)
                  .await(0, "PING\r\n")
                  .await(0, "PING\r\n")
                  .closed(0)
                  .want(0, I + PONG + "PING\r\nPING\r\n" + Err("Stale Connection") + kClosed)
                  .done());
  v.push_back(B("server_ping_answered_keeps_connection")
                  .nosplit()
                  .config("ping_interval: \"100ms\"\nping_max: 1\n")
                  .hello(0)
                  .await(0, "PING\r\n")
                  .send(0, "PONG\r\n")
                  .await(0, "PING\r\n")
                  .send(0, "PONG\r\n")
                  .await(0, "PING\r\n")
                  .closed(0)
                  .want(0, I + PONG + "PING\r\nPING\r\nPING\r\n" + Err("Stale Connection") + kClosed)
                  .done());
  return v;
}

}  // namespace sluice::difftest
