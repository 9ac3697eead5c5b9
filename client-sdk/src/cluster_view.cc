#include "cluster_view.h"

#include <algorithm>
#include <utility>

#include "codec.h"
#include "retry.h"
#include "zoomq/coordinator/membership.h"
#include "zoomq/coordinator/zk_session.h"
#include "zoomq/coordinator/zk_status.h"
#include "zoomq/coordinator/znodes.h"

namespace zoomq::client_internal {

namespace {

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

void AddUnique(std::vector<std::string>& list, const std::string& url) {
  if (!url.empty() && std::find(list.begin(), list.end(), url) == list.end()) {
    list.push_back(url);
  }
}

}  // namespace

ClusterView::ClusterView(ClientOptions options, std::shared_ptr<Transport> transport)
    : options_(std::move(options)),
      transport_(transport ? std::move(transport) : MakeHttpTransport(options_.security)) {
  for (const std::string& url : options_.brokers) AddUnique(known_urls_, TrimSlash(url));
}

ClusterView::~ClusterView() = default;

Result<std::vector<std::string>> ClusterView::ZkBrokerUrls() {
  std::lock_guard<std::mutex> lock(zk_mu_);
  if (!zk_) {
    coordinator::ZkSessionOptions o;
    o.connect_string = options_.zookeeper;
    o.session_timeout_ms = 10000;
    o.connect_timeout_ms =
        static_cast<int>(std::clamp<int64_t>(options_.request_timeout.count(), 500, 10000));
    auto session = std::make_unique<coordinator::ZkSession>(o);
    Status st = session->Start();
    if (!st.ok())
      return Status::Unavailable("ZooKeeper " + options_.zookeeper + ": " + st.message());
    zk_ = std::move(session);
  }
  std::vector<std::string> urls;
  auto ids = zk_->GetChildren(coordinator::znodes::kBrokerIds);
  if (!ids.ok()) {
    // No /brokers/ids yet: no broker ever registered under this chroot.
    if (coordinator::ZkErrorOf(ids.status()) == coordinator::ZkError::kNoNode) return urls;
    return Status::Unavailable("ZooKeeper " + options_.zookeeper + ": " + ids.status().message());
  }
  for (const std::string& id : ids.value()) {
    auto node = zk_->Get(std::string(coordinator::znodes::kBrokerIds) + "/" + id);
    if (!node.ok()) continue;  // gone meanwhile
    auto info = coordinator::ParseBrokerInfo(node->data);
    if (info.ok() && !info->url.empty()) urls.push_back(TrimSlash(info->url));
  }
  return urls;
}

Status ClusterView::EnsureFresh() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (view_ && std::chrono::steady_clock::now() - refreshed_at_ < options_.metadata_max_age) {
      return Status::Ok();
    }
  }
  Status st = Refresh(false);
  // A stale view still routes (brokers forward); only the very first view is a must.
  std::lock_guard<std::mutex> lock(mu_);
  return view_ ? Status::Ok() : st;
}

Status ClusterView::Refresh(bool force) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (refreshing_) {
      // Share the refresh under way: its answer is as fresh as ours would be.
      const uint64_t gen = refresh_generation_;
      refreshed_cv_.wait(lock, [&] { return refresh_generation_ != gen; });
      return view_ ? Status::Ok() : last_refresh_;
    }
    if (!force && view_ &&
        std::chrono::steady_clock::now() - refreshed_at_ < min_refresh_interval) {
      return Status::Ok();
    }
    if (known_urls_.empty() && options_.zookeeper.empty()) {
      return Status::Invalid("no broker URL given (ClientOptions::brokers)");
    }
    refreshing_ = true;
  }
  Status zk_status = Status::Ok();
  if (!options_.zookeeper.empty()) {
    // ZooKeeper knows the live brokers even when every URL we know is gone.
    Result<std::vector<std::string>> registered = ZkBrokerUrls();
    std::lock_guard<std::mutex> lock(mu_);
    if (registered.ok()) {
      for (const std::string& u : registered.value()) AddUnique(known_urls_, u);
    } else {
      zk_status = registered.status();
    }
  }
  std::vector<std::string> urls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The broker that answered last first, then the others in order.
    AddUnique(urls, last_good_url_);
    for (const std::string& u : known_urls_) AddUnique(urls, u);
  }

  Status status = !zk_status.ok() ? zk_status
                  : urls.empty()  ? Status::Unavailable("no broker registered in ZooKeeper")
                                  : Status::Unavailable("no broker answered");
  std::optional<ClusterInfo> fresh;
  std::string good;
  for (const std::string& url : urls) {
    HttpRequest req{"GET", url, "/v1/cluster", "", options_.request_timeout};
    HttpResponse res = transport_->Send(req);
    Status st = StatusOf(res);
    if (!st.ok()) {
      status = Status(st.code(), url + ": " + st.message());
      continue;
    }
    Result<ClusterInfo> info = api::DecodeCluster(res.body);
    if (!info.ok()) {
      status = Status(info.status().code(), url + ": " + info.status().message());
      continue;
    }
    fresh = std::move(info).value();
    good = url;
    break;
  }

  std::lock_guard<std::mutex> lock(mu_);
  refreshing_ = false;
  ++refresh_generation_;
  if (fresh) {
    for (const BrokerInfo& b : fresh->brokers) AddUnique(known_urls_, TrimSlash(b.url));
    view_ = std::move(fresh);
    refreshed_at_ = std::chrono::steady_clock::now();
    last_good_url_ = good;
    status = Status::Ok();
  }
  last_refresh_ = status;
  refreshed_cv_.notify_all();
  return status;
}

std::optional<TopicInfo> ClusterView::FindTopic(const std::string& topic) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!view_) return std::nullopt;
  for (const TopicInfo& t : view_->topics) {
    if (t.name == topic) return t;
  }
  return std::nullopt;
}

Result<TopicInfo> ClusterView::TopicOrRefresh(const std::string& topic) {
  ZOOMQ_RETURN_IF_ERROR(EnsureFresh());
  if (auto t = FindTopic(topic)) return *t;
  // Perhaps created since the last view.
  Status st = Refresh(false);
  if (auto t = FindTopic(topic)) return *t;
  if (!st.ok()) return st;
  // With security on the view lists only the topics the caller may use: ask for the topic
  // itself, so that a forbidden topic is reported as such (403), not as missing.
  HttpRequest req{"GET", "", "/v1/topics/" + UrlEncode(topic), "", options_.request_timeout};
  Status why = StatusOf(client_internal::SendToAnyBroker(
      *this, *transport_, std::move(req),
      std::chrono::steady_clock::now() + options_.request_timeout));
  if (why.code() == Code::kForbidden || why.code() == Code::kUnauthenticated) return why;
  return Status(Code::kTopicNotFound, "topic '" + topic + "' does not exist");
}

Result<int> ClusterView::Partitions(const std::string& topic) {
  Result<TopicInfo> t = TopicOrRefresh(topic);
  if (!t.ok()) return t.status();
  return static_cast<int>(t->partition_info.size());
}

Result<std::string> ClusterView::LeaderUrl(const std::string& topic, int partition) {
  Result<TopicInfo> t = TopicOrRefresh(topic);
  if (!t.ok()) return t.status();
  std::lock_guard<std::mutex> lock(mu_);
  for (const PartitionInfo& p : t->partition_info) {
    if (p.partition != partition) continue;
    std::string url = p.leader >= 0 ? UrlOfLocked(p.leader) : "";
    if (url.empty()) url = AnyUrlLocked();  // it forwards, or answers NO_LEADER
    if (url.empty()) return Status::Unavailable("no broker known");
    return url;
  }
  return Status(Code::kPartitionNotFound,
                "topic '" + topic + "' has no partition " + std::to_string(partition));
}

Result<std::vector<ClusterView::LeaderGroup>> ClusterView::LeadersOf(const std::string& topic) {
  Result<TopicInfo> t = TopicOrRefresh(topic);
  if (!t.ok()) return t.status();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<LeaderGroup> groups;
  for (const PartitionInfo& p : t->partition_info) {
    std::string url = p.leader >= 0 ? UrlOfLocked(p.leader) : "";
    int broker = url.empty() ? -1 : p.leader;
    if (url.empty()) url = AnyUrlLocked();
    if (url.empty()) return Status::Unavailable("no broker known");
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const LeaderGroup& g) { return g.url == url; });
    if (it == groups.end()) {
      groups.push_back({broker, url, {}});
      it = groups.end() - 1;
    }
    it->partitions.push_back(p.partition);
  }
  return groups;
}

std::string ClusterView::AnyUrl() {
  std::lock_guard<std::mutex> lock(mu_);
  return AnyUrlLocked();
}

std::string ClusterView::AnyUrlLocked() {
  std::vector<std::string> live;
  if (view_) {
    for (const BrokerInfo& b : view_->brokers) {
      if (b.alive && !b.url.empty()) live.push_back(TrimSlash(b.url));
    }
  }
  const std::vector<std::string>& from = live.empty() ? known_urls_ : live;
  if (from.empty()) return "";
  return from[next_url_++ % from.size()];
}

std::string ClusterView::UrlOfLocked(int id) const {
  if (!view_) return "";
  for (const BrokerInfo& b : view_->brokers) {
    if (b.id == id && b.alive) return TrimSlash(b.url);
  }
  return "";
}

ClusterInfo ClusterView::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return view_ ? *view_ : ClusterInfo{};
}

}  // namespace zoomq::client_internal
