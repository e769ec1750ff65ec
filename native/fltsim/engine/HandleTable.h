// The simulator's kernel handle table. Every opaque kernel object a driver holds (PFLT_FILTER,
// PFLT_PORT, a mailslot HANDLE or PFILE_OBJECT, PEPROCESS) is a handle value looked up here,
// never a pointer the driver could dangle: a closed or forged handle is reported as
// STATUS_INVALID_HANDLE, as Windows does, instead of corrupting the host. Values are never
// reused within a process. Thread-safe; its lock is a leaf (taken under engine locks).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace fltport::fltsim {

enum class ObjectType : uint8_t {
  kFilter,
  kServerPort,
  kClientPort,
  kMailslotHandle,      // the HANDLE from FltCreateMailslotFile
  kMailslotFileObject,  // the referenced FILE_OBJECT from FltCreateMailslotFile
  kProcess,
  kThread,  // PsCreateSystemThread
};

struct KernelObject {
  explicit KernelObject(ObjectType t) : type(t) {}
  virtual ~KernelObject() = default;
  const ObjectType type;
};

class HandleTable {
 public:
  static HandleTable& Global();

  uintptr_t Insert(std::shared_ptr<KernelObject> object);
  // nullptr when the handle is not open or names an object of another type.
  std::shared_ptr<KernelObject> Lookup(uintptr_t handle, ObjectType type) const;
  std::shared_ptr<KernelObject> Remove(uintptr_t handle, ObjectType type);
  size_t Count() const;

  template <class T>
  std::shared_ptr<T> LookupAs(uintptr_t handle, ObjectType type) const {
    return std::static_pointer_cast<T>(Lookup(handle, type));
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<uintptr_t, std::shared_ptr<KernelObject>> objects_;
  // Kernel handles are multiples of 4 like NT's; starting high keeps them far from small
  // integers a buggy driver might pass.
  uintptr_t next_ = 0x10004;
};

}  // namespace fltport::fltsim
