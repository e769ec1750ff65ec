#include "SecurityPolicy.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>

namespace fltport::fltsim {
namespace {

std::mutex g_mu;
// Owned here; the driver only ever holds the key.
std::unordered_map<void*, SecurityPolicy*>* g_live = new std::unordered_map<void*, SecurityPolicy*>();

bool Contains(const std::vector<uint32_t>& v, uint32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

bool SecurityPolicy::Admits(const PeerIdentity& peer, uint32_t requested, uint32_t host_uid) const {
  if (null_dacl) return true;
  if ((granted_access & requested) != requested) return false;
  if (!peer.has_credentials) return false;
  if (peer.uid == 0 || peer.uid == host_uid) return true;
  return Contains(uids, peer.uid) || Contains(gids, peer.gid);
}

void* NewSecurityDescriptor(uint32_t granted_access) {
  auto* policy = new SecurityPolicy();
  policy->granted_access = granted_access;
  std::lock_guard<std::mutex> lock(g_mu);
  g_live->emplace(policy, policy);
  return policy;
}

bool FreeSecurityDescriptor(void* sd) {
  SecurityPolicy* policy = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_live->find(sd);
    if (it == g_live->end()) return false;
    policy = it->second;
    g_live->erase(it);
  }
  delete policy;
  return true;
}

bool ReadSecurityDescriptor(void* sd, SecurityPolicy* out) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_live->find(sd);
  if (it == g_live->end()) return false;
  *out = *it->second;
  return true;
}

bool UpdateSecurityDescriptor(void* sd, void (*change)(SecurityPolicy*, uint32_t), uint32_t arg) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_live->find(sd);
  if (it == g_live->end()) return false;
  change(it->second, arg);
  return true;
}

}  // namespace fltport::fltsim
