// Filter management for the Wine lane's test fltlib.dll (fltlib.cc has the communication
// ports): FilterLoad/Unload, FilterAttach/Detach, FilterGetDosName and the FilterFind*,
// FilterInstanceFind*, FilterVolumeFind* enumerations, answered by fltsim-host for the one
// filter it hosts. Real fltlib sends these to FltMgr's control device; here they travel as the
// `filters.*` / `volumes.*` control verbs native/posix also sends (docs/fltsim.md), over the
// host's pipe, and the answers are laid out in the documented information-class structures
// (fltUserStructures.h), one entry per call as FltMgr returns them. Statuses are translated as
// for the port functions (spec §1.3).
//
// Information classes: those the addon asks for (FilterAggregateStandardInformation,
// InstanceAggregateStandardInformation, FilterVolumeStandardInformation); any other fails
// with E_INVALIDARG rather than with invented data.
//
// Threads: any; each call opens its own control stream (these are rare, slow-path calls).
#include <windows.h>

#include <fltuser.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "FltMgrMsg.h"
#include "FltlibCommon.h"

namespace {

using fltport::fltsim::fltlib::FromStatus;
using fltport::fltsim::fltlib::Instance;

constexpr HRESULT kNoMoreItems = static_cast<HRESULT>(0x80070103);       // ERROR_NO_MORE_ITEMS
constexpr HRESULT kInsufficientBuffer = static_cast<HRESULT>(0x8007007A);  // ERROR_INSUFFICIENT_BUFFER
constexpr HRESULT kInvalidHandle = static_cast<HRESULT>(0x80070006);       // ERROR_INVALID_HANDLE
constexpr uint32_t kStatusUnsuccessful = 0xC0000001;
constexpr DWORD kControlTimeoutMs = 30000;
constexpr uint32_t kMaxFrame = FLTSIM_MAX_FRAME;
constexpr uint32_t kMaxEntries = 65536;

// ---- The control channel -----------------------------------------------------------------

std::string Utf8(const wchar_t* text) {
  if (text == nullptr || *text == L'\0') return std::string();
  const int n = WideCharToMultiByte(CP_UTF8, 0, text, -1, nullptr, 0, nullptr, nullptr);
  if (n <= 1) return std::string();
  std::string out(static_cast<size_t>(n - 1), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text, -1, &out[0], n, nullptr, nullptr);
  return out;
}

std::wstring Wide(const std::string& text) {
  if (text.empty()) return std::wstring();
  const int n = MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0);
  std::wstring out(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), &out[0], n);
  return out;
}

// ControlText.h's value encoding: bytes outside 0x21..0x7E, '%' and '=' as %XX.
std::string Encode(const std::string& raw) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : raw) {
    if (c < 0x21 || c > 0x7E || c == '%' || c == '=') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Decode(const std::string& encoded) {
  std::string out;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size() && HexDigit(encoded[i + 1]) >= 0 && HexDigit(encoded[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(encoded[i + 1]) * 16 + HexDigit(encoded[i + 2]));
      i += 2;
    } else {
      out += encoded[i];
    }
  }
  return out;
}

struct Reply {
  bool ok = false;
  uint32_t status = kStatusUnsuccessful;  // of an "error" answer, or of a transport failure
  std::map<std::string, std::string> args;

  const std::string* Find(const std::string& key) const {
    auto it = args.find(key);
    return it == args.end() ? nullptr : &it->second;
  }
};

class Pipe {
 public:
  ~Pipe() {
    if (handle_ != INVALID_HANDLE_VALUE) CloseHandle(handle_);
    if (event_ != nullptr) CloseHandle(event_);
  }
  bool Open(const std::string& name) {
    handle_ = CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                          FILE_FLAG_OVERLAPPED, nullptr);
    event_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    return handle_ != INVALID_HANDLE_VALUE && event_ != nullptr;
  }
  // Both bounded by kControlTimeoutMs: a host that stops answering fails the call, never hangs it.
  bool Write(const void* data, DWORD size) { return Io(const_cast<void*>(data), size, true); }
  bool Read(void* data, DWORD size) {
    DWORD got = 0;
    while (got < size) {
      DWORD n = 0;
      if (!Io(static_cast<char*>(data) + got, size - got, false, &n) || n == 0) return false;
      got += n;
    }
    return true;
  }

 private:
  bool Io(void* data, DWORD size, bool write, DWORD* done = nullptr) {
    OVERLAPPED ov{};
    ov.hEvent = event_;
    DWORD n = 0;
    BOOL ok = write ? WriteFile(handle_, data, size, &n, &ov) : ReadFile(handle_, data, size, &n, &ov);
    if (!ok && GetLastError() == ERROR_IO_PENDING) {
      if (WaitForSingleObject(event_, kControlTimeoutMs) != WAIT_OBJECT_0) {
        CancelIoEx(handle_, &ov);
        GetOverlappedResult(handle_, &ov, &n, TRUE);
        return false;
      }
      ok = GetOverlappedResult(handle_, &ov, &n, FALSE);
    }
    if (done != nullptr) *done = n;
    return ok && (write ? n == size : true);
  }

  HANDLE handle_ = INVALID_HANDLE_VALUE;
  HANDLE event_ = nullptr;
};

bool SendFrame(Pipe& pipe, uint16_t type, uint64_t tag, const std::string& body) {
  std::string frame(16, '\0');
  const uint32_t length = static_cast<uint32_t>(16 + body.size());
  std::memcpy(&frame[0], &length, 4);
  std::memcpy(&frame[4], &type, 2);
  std::memcpy(&frame[8], &tag, 8);
  frame += body;
  return pipe.Write(frame.data(), static_cast<DWORD>(frame.size()));
}

// The next frame that is not an event; false on a transport failure or a malformed frame.
bool ReadAnswer(Pipe& pipe, uint16_t* type, uint64_t* tag, std::string* body) {
  for (;;) {
    uint8_t header[16];
    if (!pipe.Read(header, sizeof header)) return false;
    uint32_t length;
    std::memcpy(&length, header, 4);
    std::memcpy(type, header + 4, 2);
    std::memcpy(tag, header + 8, 8);
    if (length < 16 || length > kMaxFrame) return false;
    body->assign(length - 16, '\0');
    if (length > 16 && !pipe.Read(&(*body)[0], length - 16)) return false;
    if (*type != FLTSIM_CONTROL_EVENT) return true;
  }
}

// One control command on a stream of its own: "verb k=v ..." -> the parsed answer.
Reply Call(const std::string& line) {
  Reply reply;
  const std::string instance = Instance();
  Pipe pipe;
  if (instance.empty() || !pipe.Open(std::string(FLTSIM_PIPE_PREFIX) + instance)) {
    // No fltsim-host serving this instance: the Filter Manager itself is missing.
    reply.status = 0xC0000034;  // STATUS_OBJECT_NAME_NOT_FOUND
    return reply;
  }
  FLTSIM_HELLO_BODY hello{};
  hello.Magic = FLTSIM_WIRE_MAGIC;
  hello.Version = FLTSIM_WIRE_VERSION;
  hello.Kind = FLTSIM_KIND_CONTROL;
  hello.ProcessId = GetCurrentProcessId();
  uint16_t type = 0;
  uint64_t tag = 0;
  std::string body;
  if (!SendFrame(pipe, FLTSIM_HELLO, 0, std::string(reinterpret_cast<const char*>(&hello), sizeof hello)) ||
      !ReadAnswer(pipe, &type, &tag, &body) || type != FLTSIM_HELLO_RESULT || body.size() < 4 ||
      body[0] != 0 || body[1] != 0 || body[2] != 0 || body[3] != 0) {
    return reply;
  }
  if (!SendFrame(pipe, FLTSIM_CONTROL, 1, line)) return reply;
  do {
    if (!ReadAnswer(pipe, &type, &tag, &body)) return reply;
  } while (type != FLTSIM_CONTROL_RESULT || tag != 1);
  // "ok k=v ..." or "error status=0x... message=..."
  size_t start = 0;
  bool first = true;
  while (start <= body.size()) {
    size_t space = body.find(' ', start);
    const std::string word = body.substr(start, space == std::string::npos ? std::string::npos : space - start);
    if (first) {
      reply.ok = word == "ok";
      first = false;
    } else if (!word.empty()) {
      const size_t eq = word.find('=');
      if (eq != std::string::npos) reply.args[word.substr(0, eq)] = Decode(word.substr(eq + 1));
    }
    if (space == std::string::npos) break;
    start = space + 1;
  }
  if (reply.ok) {
    reply.status = 0;
  } else if (const std::string* status = reply.Find("status")) {
    reply.status = static_cast<uint32_t>(strtoul(status->c_str(), nullptr, 16));
    if (reply.status == 0) reply.status = kStatusUnsuccessful;
  }
  return reply;
}

HRESULT Result(const Reply& reply) { return reply.ok ? S_OK : FromStatus(static_cast<NTSTATUS>(reply.status)); }

std::string Arg(const char* key, const wchar_t* value) { return std::string(" ") + key + "=" + Encode(Utf8(value)); }

// ---- Enumerations: one entry per call, as FltMgr returns them ----------------------------

struct Entry {
  std::map<std::string, std::string> fields;  // the entry's ".I" fields, without the suffix
  const std::string& Get(const char* key) const {
    static const std::string kEmpty;
    auto it = fields.find(key);
    return it == fields.end() ? kEmpty : it->second;
  }
  ULONG Number(const char* key) const { return static_cast<ULONG>(strtoul(Get(key).c_str(), nullptr, 10)); }
};

enum class FindKind { kFilters, kInstances, kVolumes };

struct FindState {
  FindKind kind;
  std::vector<Entry> entries;
  size_t next = 0;
};

std::mutex g_finds_mu;
std::set<FindState*> g_finds;  // live find handles: a stale or foreign one is refused, not read

std::vector<Entry> Entries(const Reply& reply) {
  std::vector<Entry> entries;
  const std::string* count = reply.Find("count");
  const unsigned long n = count ? strtoul(count->c_str(), nullptr, 10) : 0;
  for (unsigned long i = 0; i < n && i < kMaxEntries; ++i) {
    Entry e;
    const std::string suffix = "." + std::to_string(i);
    for (const auto& [key, value] : reply.args) {
      if (key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
        e.fields[key.substr(0, key.size() - suffix.size())] = value;
      }
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

// Lays out one entry in `out`: the fixed part, then the UTF-16 strings, offsets from the
// entry's start. Returns the bytes needed.
class Layout {
 public:
  explicit Layout(size_t fixed) : bytes_(fixed, 0) {}
  template <typename T>
  void Put(size_t offset, T value) {
    std::memcpy(&bytes_[offset], &value, sizeof value);
  }
  // Appends `text` and writes its byte length and offset into the given USHORT fields.
  void String(size_t length_field, size_t offset_field, const std::string& text) {
    const std::wstring wide = Wide(text);
    Put<USHORT>(length_field, static_cast<USHORT>(wide.size() * sizeof(wchar_t)));
    Put<USHORT>(offset_field, static_cast<USHORT>(bytes_.size()));
    const auto* p = reinterpret_cast<const uint8_t*>(wide.data());
    bytes_.insert(bytes_.end(), p, p + wide.size() * sizeof(wchar_t));
  }
  void Inline(const std::string& text) {
    const std::wstring wide = Wide(text);
    const auto* p = reinterpret_cast<const uint8_t*>(wide.data());
    bytes_.insert(bytes_.end(), p, p + wide.size() * sizeof(wchar_t));
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

std::vector<uint8_t> LayOut(FindKind kind, const Entry& e) {
  switch (kind) {
    case FindKind::kFilters: {
      using S = FILTER_AGGREGATE_STANDARD_INFORMATION;
      Layout l(sizeof(S));
      if (e.Get("legacy") == "1") {
        l.Put<ULONG>(offsetof(S, Flags), FLTFL_ASI_IS_LEGACYFILTER);
        l.String(offsetof(S, Type.LegacyFilter.FilterNameLength), offsetof(S, Type.LegacyFilter.FilterNameBufferOffset),
                 e.Get("name"));
        l.String(offsetof(S, Type.LegacyFilter.FilterAltitudeLength),
                 offsetof(S, Type.LegacyFilter.FilterAltitudeBufferOffset), e.Get("altitude"));
      } else {
        l.Put<ULONG>(offsetof(S, Flags), FLTFL_ASI_IS_MINIFILTER);
        l.Put<ULONG>(offsetof(S, Type.MiniFilter.FrameID), e.Number("frame"));
        l.Put<ULONG>(offsetof(S, Type.MiniFilter.NumberOfInstances), e.Number("instances"));
        l.String(offsetof(S, Type.MiniFilter.FilterNameLength), offsetof(S, Type.MiniFilter.FilterNameBufferOffset),
                 e.Get("name"));
        l.String(offsetof(S, Type.MiniFilter.FilterAltitudeLength),
                 offsetof(S, Type.MiniFilter.FilterAltitudeBufferOffset), e.Get("altitude"));
      }
      return l.bytes();
    }
    case FindKind::kInstances: {
      using S = INSTANCE_AGGREGATE_STANDARD_INFORMATION;
      Layout l(sizeof(S));
      l.Put<ULONG>(offsetof(S, Flags), FLTFL_IASI_IS_MINIFILTER);
      l.Put<ULONG>(offsetof(S, Type.MiniFilter.FrameID), e.Number("frame"));
      l.Put<ULONG>(offsetof(S, Type.MiniFilter.VolumeFileSystemType), e.Number("fstype"));
      l.String(offsetof(S, Type.MiniFilter.InstanceNameLength), offsetof(S, Type.MiniFilter.InstanceNameBufferOffset),
               e.Get("name"));
      l.String(offsetof(S, Type.MiniFilter.AltitudeLength), offsetof(S, Type.MiniFilter.AltitudeBufferOffset),
               e.Get("altitude"));
      l.String(offsetof(S, Type.MiniFilter.VolumeNameLength), offsetof(S, Type.MiniFilter.VolumeNameBufferOffset),
               e.Get("volume"));
      l.String(offsetof(S, Type.MiniFilter.FilterNameLength), offsetof(S, Type.MiniFilter.FilterNameBufferOffset),
               e.Get("filter"));
      return l.bytes();
    }
    case FindKind::kVolumes: {
      using S = FILTER_VOLUME_STANDARD_INFORMATION;
      Layout l(offsetof(S, FilterVolumeName));
      l.Put<ULONG>(offsetof(S, FrameID), e.Number("frame"));
      l.Put<ULONG>(offsetof(S, FileSystemType), e.Number("fstype"));
      l.Put<USHORT>(offsetof(S, FilterVolumeNameLength), static_cast<USHORT>(Wide(e.Get("name")).size() * sizeof(wchar_t)));
      l.Inline(e.Get("name"));
      return l.bytes();
    }
  }
  return {};
}

// Copies the next entry of `state` out, or reports what it needs; the entry is consumed only
// when it was delivered.
HRESULT Deliver(FindState* state, LPVOID buffer, DWORD size, LPDWORD returned) {
  if (state->next >= state->entries.size()) return kNoMoreItems;
  const std::vector<uint8_t> bytes = LayOut(state->kind, state->entries[state->next]);
  *returned = static_cast<DWORD>(bytes.size());
  if (buffer == nullptr || size < bytes.size()) return kInsufficientBuffer;
  std::memcpy(buffer, bytes.data(), bytes.size());
  ++state->next;
  return S_OK;
}

HRESULT FindFirst(FindKind kind, const std::string& line, LPVOID buffer, DWORD size, LPDWORD returned,
                  HANDLE* find) {
  if (returned == nullptr || find == nullptr) return E_INVALIDARG;
  *find = INVALID_HANDLE_VALUE;
  *returned = 0;
  const Reply reply = Call(line);
  if (!reply.ok) return Result(reply);
  auto state = std::make_unique<FindState>();
  state->kind = kind;
  state->entries = Entries(reply);
  const HRESULT hr = Deliver(state.get(), buffer, size, returned);
  if (hr != S_OK) return hr;  // no handle: the caller retries FindFirst with a larger buffer
  std::lock_guard<std::mutex> lock(g_finds_mu);
  g_finds.insert(state.get());
  *find = reinterpret_cast<HANDLE>(state.release());
  return S_OK;
}

HRESULT FindNext(HANDLE find, LPVOID buffer, DWORD size, LPDWORD returned, FindKind kind) {
  if (returned == nullptr) return E_INVALIDARG;
  *returned = 0;
  std::lock_guard<std::mutex> lock(g_finds_mu);
  auto* state = reinterpret_cast<FindState*>(find);
  if (g_finds.count(state) == 0 || state->kind != kind) return kInvalidHandle;
  return Deliver(state, buffer, size, returned);
}

HRESULT FindClose(HANDLE find, FindKind kind) {
  std::lock_guard<std::mutex> lock(g_finds_mu);
  auto* state = reinterpret_cast<FindState*>(find);
  if (g_finds.count(state) == 0 || state->kind != kind) return kInvalidHandle;
  g_finds.erase(state);
  delete state;
  return S_OK;
}

}  // namespace

extern "C" {

HRESULT WINAPI FilterLoad(LPCWSTR lpFilterName) {
  if (lpFilterName == nullptr) return E_INVALIDARG;
  return Result(Call("filters.load" + Arg("filter", lpFilterName)));
}

HRESULT WINAPI FilterUnload(LPCWSTR lpFilterName) {
  if (lpFilterName == nullptr) return E_INVALIDARG;
  return Result(Call("filters.unload" + Arg("filter", lpFilterName)));
}

HRESULT WINAPI FilterAttach(LPCWSTR lpFilterName, LPCWSTR lpVolumeName, LPCWSTR lpInstanceName,
                            DWORD dwCreatedInstanceNameLength, LPWSTR lpCreatedInstanceName) {
  if (lpFilterName == nullptr || lpVolumeName == nullptr) return E_INVALIDARG;
  std::string line = "filters.attach" + Arg("filter", lpFilterName) + Arg("volume", lpVolumeName);
  if (lpInstanceName != nullptr && *lpInstanceName != L'\0') line += Arg("instance", lpInstanceName);
  const Reply reply = Call(line);
  if (!reply.ok) return Result(reply);
  if (lpCreatedInstanceName != nullptr) {
    const std::wstring created = Wide(reply.Find("instance") ? *reply.Find("instance") : std::string());
    // dwCreatedInstanceNameLength is in bytes, terminator included.
    if (dwCreatedInstanceNameLength < (created.size() + 1) * sizeof(wchar_t)) return kInsufficientBuffer;
    std::memcpy(lpCreatedInstanceName, created.c_str(), (created.size() + 1) * sizeof(wchar_t));
  }
  return S_OK;
}

HRESULT WINAPI FilterDetach(LPCWSTR lpFilterName, LPCWSTR lpVolumeName, LPCWSTR lpInstanceName) {
  if (lpFilterName == nullptr || lpVolumeName == nullptr) return E_INVALIDARG;
  std::string line = "filters.detach" + Arg("filter", lpFilterName) + Arg("volume", lpVolumeName);
  if (lpInstanceName != nullptr && *lpInstanceName != L'\0') line += Arg("instance", lpInstanceName);
  return Result(Call(line));
}

HRESULT WINAPI FilterGetDosName(LPCWSTR lpVolumeName, LPWSTR lpDosName, DWORD dwDosNameBufferSize) {
  if (lpVolumeName == nullptr || lpDosName == nullptr) return E_INVALIDARG;
  const Reply reply = Call("volumes.dosname" + Arg("volume", lpVolumeName));
  if (!reply.ok) return Result(reply);
  const std::wstring dos = Wide(reply.Find("dos") ? *reply.Find("dos") : std::string());
  // dwDosNameBufferSize counts WCHARs, terminator included.
  if (dwDosNameBufferSize < dos.size() + 1) return kInsufficientBuffer;
  std::memcpy(lpDosName, dos.c_str(), (dos.size() + 1) * sizeof(wchar_t));
  return S_OK;
}

HRESULT WINAPI FilterFindFirst(FILTER_INFORMATION_CLASS dwInformationClass, LPVOID lpBuffer, DWORD dwBufferSize,
                               LPDWORD lpBytesReturned, LPHANDLE lpFilterFind) {
  if (dwInformationClass != FilterAggregateStandardInformation) return E_INVALIDARG;
  return FindFirst(FindKind::kFilters, "filters.list", lpBuffer, dwBufferSize, lpBytesReturned, lpFilterFind);
}

HRESULT WINAPI FilterFindNext(HANDLE hFilterFind, FILTER_INFORMATION_CLASS dwInformationClass, LPVOID lpBuffer,
                              DWORD dwBufferSize, LPDWORD lpBytesReturned) {
  if (dwInformationClass != FilterAggregateStandardInformation) return E_INVALIDARG;
  return FindNext(hFilterFind, lpBuffer, dwBufferSize, lpBytesReturned, FindKind::kFilters);
}

HRESULT WINAPI FilterFindClose(HANDLE hFilterFind) { return FindClose(hFilterFind, FindKind::kFilters); }

HRESULT WINAPI FilterInstanceFindFirst(LPCWSTR lpFilterName, INSTANCE_INFORMATION_CLASS dwInformationClass,
                                       LPVOID lpBuffer, DWORD dwBufferSize, LPDWORD lpBytesReturned,
                                       LPHANDLE lpFilterInstanceFind) {
  if (lpFilterName == nullptr || dwInformationClass != InstanceAggregateStandardInformation) return E_INVALIDARG;
  return FindFirst(FindKind::kInstances, "filters.instances" + Arg("filter", lpFilterName), lpBuffer, dwBufferSize,
                   lpBytesReturned, lpFilterInstanceFind);
}

HRESULT WINAPI FilterInstanceFindNext(HANDLE hFilterInstanceFind, INSTANCE_INFORMATION_CLASS dwInformationClass,
                                      LPVOID lpBuffer, DWORD dwBufferSize, LPDWORD lpBytesReturned) {
  if (dwInformationClass != InstanceAggregateStandardInformation) return E_INVALIDARG;
  return FindNext(hFilterInstanceFind, lpBuffer, dwBufferSize, lpBytesReturned, FindKind::kInstances);
}

HRESULT WINAPI FilterInstanceFindClose(HANDLE hFilterInstanceFind) {
  return FindClose(hFilterInstanceFind, FindKind::kInstances);
}

HRESULT WINAPI FilterVolumeFindFirst(FILTER_VOLUME_INFORMATION_CLASS dwInformationClass, LPVOID lpBuffer,
                                     DWORD dwBufferSize, LPDWORD lpBytesReturned, PHANDLE lpVolumeFind) {
  if (dwInformationClass != FilterVolumeStandardInformation) return E_INVALIDARG;
  return FindFirst(FindKind::kVolumes, "volumes.list", lpBuffer, dwBufferSize, lpBytesReturned, lpVolumeFind);
}

HRESULT WINAPI FilterVolumeFindNext(HANDLE hVolumeFind, FILTER_VOLUME_INFORMATION_CLASS dwInformationClass,
                                    LPVOID lpBuffer, DWORD dwBufferSize, LPDWORD lpBytesReturned) {
  if (dwInformationClass != FilterVolumeStandardInformation) return E_INVALIDARG;
  return FindNext(hVolumeFind, lpBuffer, dwBufferSize, lpBytesReturned, FindKind::kVolumes);
}

HRESULT WINAPI FilterVolumeFindClose(HANDLE hVolumeFind) { return FindClose(hVolumeFind, FindKind::kVolumes); }

}  // extern "C"
