// Security-descriptor emulation (spec §7.4). A port's descriptor decides who may connect:
// Windows checks the caller's token against the DACL; fltsim checks the connecting peer's
// Linux credentials (SO_PEERCRED / getpeereid) against a SecurityPolicy. The default
// descriptor admits "SYSTEM and Administrators", which fltsim reads as uid 0 and the host's
// own uid; drivers add principals with FltsimSecurityDescriptorAllowUid/Gid, or admit
// everyone with a NULL DACL (RtlSetDaclSecurityDescriptor(sd, TRUE, NULL, FALSE)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fltport::fltsim {

struct PeerIdentity {
  uint32_t pid = 0;  // from HELLO (what the client says; used for PsGetCurrentProcess)
  uint32_t uid = 0;  // from the transport (what the kernel says)
  uint32_t gid = 0;
  bool has_credentials = false;  // false: the transport could not tell; only a NULL DACL admits
};

struct SecurityPolicy {
  bool null_dacl = false;       // no DACL: every caller gets every right
  uint32_t granted_access = 0;  // DesiredAccess given to FltBuildDefaultSecurityDescriptor
  std::vector<uint32_t> uids;   // beyond uid 0 and the host's uid
  std::vector<uint32_t> gids;

  // Whether `peer` is granted `requested` access (all bits).
  bool Admits(const PeerIdentity& peer, uint32_t requested, uint32_t host_uid) const;
};

// PSECURITY_DESCRIPTOR values are pointers the driver owns until FltFreeSecurityDescriptor;
// fltsim keeps the set of live ones so that a stale or foreign pointer is refused instead of
// read. All functions: any thread.
void* NewSecurityDescriptor(uint32_t granted_access);
// false if `sd` is not a live descriptor.
bool FreeSecurityDescriptor(void* sd);
// Copies the policy out; false if `sd` is not a live descriptor.
bool ReadSecurityDescriptor(void* sd, SecurityPolicy* out);
// Applies `change` to a live descriptor; false if it is not one.
bool UpdateSecurityDescriptor(void* sd, void (*change)(SecurityPolicy*, uint32_t), uint32_t arg);

}  // namespace fltport::fltsim
