// core::FilterManagement on POSIX: fltsim-host answers for the filters it hosts, over a
// control stream (ControlClient). One stream per call: these are rare, slow-path calls.
//
// The commands and answers (docs/fltsim.md owns the language; this is what we send/expect):
//   filters.list                                 -> ok count=N name.I= altitude.I=
//                                                   instances.I= frame.I= legacy.I=0|1
//   filters.instances filter=F                   -> ok count=N name.I= altitude.I= volume.I=
//                                                   filter.I= frame.I= fstype.I= detach.I=0|1
//   volumes.list                                 -> ok count=N name.I= dos.I= frame.I= fstype.I=
//   filters.load filter=F / filters.unload filter=F              -> ok
//   filters.attach filter=F volume=V [instance=I]                -> ok instance=NAME
//   filters.detach filter=F volume=V [instance=I]                -> ok
//   volumes.dosname volume=V                                     -> ok dos=C:
// Any command may answer "error status=0x........ message=...": the NTSTATUS fltlib's function would
// have got, translated here as fltlib does (spec §1.3).
//
// Threads: every function runs on a worker thread and blocks on the stream (bounded).
#include <string>
#include <utility>
#include <vector>

#include "ControlClient.h"
#include "FilterManagement.h"
#include "TextCodec.h"

namespace fltport::core {
namespace {

using posix::ControlClient;
using posix::ControlReply;
using posix::TextCodec;
using Args = std::vector<std::pair<std::string, std::string>>;

// Largest list we accept from the host: a bound on what a broken host can make us allocate.
constexpr uint32_t kMaxEntries = 65536;

Status Run(const ManagementContext& ctx, const char* api, const std::string& verb, const Args& args,
           ControlReply* reply) {
  Status s;
  auto client = ControlClient::Open(ctx.sim_runtime_dir, &s);
  if (!client) return s;
  s = client->Call(verb, args, reply);
  if (!s.ok()) {
    s.detail += " (" + std::string(api) + ")";
    return s;
  }
  if (!reply->ok) {
    Status e = Status::FromNtStatus(reply->status, api);
    if (const std::string* m = reply->Find("message")) e.detail = *m;
    return e;
  }
  return Status::Ok();
}

std::string Indexed(const char* key, uint32_t i) { return std::string(key) + "." + std::to_string(i); }

// Reads the fields of entry `i`; a missing or malformed one is a protocol error.
class EntryReader {
 public:
  EntryReader(const ControlReply& reply, uint32_t index, const std::string& verb)
      : reply_(reply), index_(index), verb_(verb) {}
  std::u16string Text(const char* key) {
    const std::string* v = reply_.Find(Indexed(key, index_));
    if (!v) {
      Missing(key);
      return {};
    }
    return TextCodec::Utf8ToUtf16(*v);
  }
  uint32_t Number(const char* key) {
    uint32_t v = 0;
    if (!reply_.U32(Indexed(key, index_), &v)) Missing(key);
    return v;
  }
  bool Flag(const char* key) {
    const uint32_t v = Number(key);
    if (v > 1) Missing(key);
    return v == 1;
  }
  const Status& status() const { return status_; }

 private:
  void Missing(const char* key) {
    if (status_.ok()) {
      status_ = Status::Protocol("answer to " + verb_ + " lacks a valid " + Indexed(key, index_));
    }
  }
  const ControlReply& reply_;
  const uint32_t index_;
  const std::string verb_;
  Status status_;
};

// Runs a listing verb and reads its `count` entries with `read(EntryReader&) -> T`; on any
// error `out` is left empty.
template <typename T, typename Read>
Status RunList(const ManagementContext& ctx, const char* api, const std::string& verb,
               const Args& args, std::vector<T>* out, Read read) {
  out->clear();
  ControlReply reply;
  Status s = Run(ctx, api, verb, args, &reply);
  uint32_t count = 0;
  if (s.ok() && (!reply.U32("count", &count) || count > kMaxEntries)) {
    s = Status::Protocol("answer to " + verb + " lacks a valid count");
  }
  for (uint32_t i = 0; s.ok() && i < count; ++i) {
    EntryReader e(reply, i, verb);
    out->push_back(read(e));
    s = e.status();
  }
  if (!s.ok()) out->clear();
  return s;
}

}  // namespace

Status ListFilters(const ManagementContext& ctx, std::vector<FilterInfo>* out) {
  return RunList(ctx, "FilterFindFirst", "filters.list", {}, out, [](EntryReader& e) {
    FilterInfo f;
    f.name = e.Text("name");
    f.altitude = e.Text("altitude");
    f.instance_count = e.Number("instances");
    f.frame_id = e.Number("frame");
    f.legacy = e.Flag("legacy");
    return f;
  });
}

Status ListInstances(const ManagementContext& ctx, const std::u16string& filter,
                     std::vector<InstanceInfo>* out) {
  return RunList(ctx, "FilterInstanceFindFirst", "filters.instances",
                 {{"filter", TextCodec::Utf16ToUtf8(filter)}}, out, [](EntryReader& e) {
                   InstanceInfo n;
                   n.name = e.Text("name");
                   n.altitude = e.Text("altitude");
                   n.volume_name = e.Text("volume");
                   n.filter_name = e.Text("filter");
                   n.frame_id = e.Number("frame");
                   n.volume_type = e.Number("fstype");
                   n.detach_allowed = e.Flag("detach");
                   return n;
                 });
}

Status ListVolumes(const ManagementContext& ctx, std::vector<VolumeInfo>* out) {
  return RunList(ctx, "FilterVolumeFindFirst", "volumes.list", {}, out, [](EntryReader& e) {
    VolumeInfo v;
    v.name = e.Text("name");
    v.dos_name = e.Text("dos");
    v.frame_id = e.Number("frame");
    v.filesystem_type = e.Number("fstype");
    return v;
  });
}

Status LoadFilter(const ManagementContext& ctx, const std::u16string& filter) {
  ControlReply reply;
  return Run(ctx, "FilterLoad", "filters.load", {{"filter", TextCodec::Utf16ToUtf8(filter)}},
             &reply);
}

Status UnloadFilter(const ManagementContext& ctx, const std::u16string& filter) {
  ControlReply reply;
  return Run(ctx, "FilterUnload", "filters.unload", {{"filter", TextCodec::Utf16ToUtf8(filter)}},
             &reply);
}

Status AttachFilter(const ManagementContext& ctx, const std::u16string& filter,
                    const std::u16string& volume, const std::u16string& instance_name,
                    std::u16string* created_instance) {
  created_instance->clear();
  Args args = {{"filter", TextCodec::Utf16ToUtf8(filter)}, {"volume", TextCodec::Utf16ToUtf8(volume)}};
  if (!instance_name.empty()) args.emplace_back("instance", TextCodec::Utf16ToUtf8(instance_name));
  ControlReply reply;
  Status s = Run(ctx, "FilterAttach", "filters.attach", args, &reply);
  if (!s.ok()) return s;
  const std::string* created = reply.Find("instance");
  if (!created || created->empty()) {
    return Status::Protocol("answer to filters.attach lacks the instance name", "FilterAttach");
  }
  *created_instance = TextCodec::Utf8ToUtf16(*created);
  return Status::Ok();
}

Status DetachFilter(const ManagementContext& ctx, const std::u16string& filter,
                    const std::u16string& volume, const std::u16string& instance_name) {
  Args args = {{"filter", TextCodec::Utf16ToUtf8(filter)}, {"volume", TextCodec::Utf16ToUtf8(volume)}};
  if (!instance_name.empty()) args.emplace_back("instance", TextCodec::Utf16ToUtf8(instance_name));
  ControlReply reply;
  return Run(ctx, "FilterDetach", "filters.detach", args, &reply);
}

Status GetDosName(const ManagementContext& ctx, const std::u16string& volume, std::u16string* dos) {
  dos->clear();
  ControlReply reply;
  Status s = Run(ctx, "FilterGetDosName", "volumes.dosname",
                 {{"volume", TextCodec::Utf16ToUtf8(volume)}}, &reply);
  if (!s.ok()) return s;
  const std::string* d = reply.Find("dos");
  if (!d) return Status::Protocol("answer to volumes.dosname lacks dos", "FilterGetDosName");
  *dos = TextCodec::Utf8ToUtf16(*d);
  return Status::Ok();
}

}  // namespace fltport::core
