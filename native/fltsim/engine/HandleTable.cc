#include "HandleTable.h"

namespace fltport::fltsim {

HandleTable& HandleTable::Global() {
  // Leaked on purpose: driver threads may still close handles while static destructors run.
  static HandleTable* table = new HandleTable();
  return *table;
}

uintptr_t HandleTable::Insert(std::shared_ptr<KernelObject> object) {
  std::lock_guard<std::mutex> lock(mu_);
  uintptr_t h = next_;
  next_ += 4;
  objects_.emplace(h, std::move(object));
  return h;
}

std::shared_ptr<KernelObject> HandleTable::Lookup(uintptr_t handle, ObjectType type) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(handle);
  if (it == objects_.end() || it->second->type != type) return nullptr;
  return it->second;
}

std::shared_ptr<KernelObject> HandleTable::Remove(uintptr_t handle, ObjectType type) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(handle);
  if (it == objects_.end() || it->second->type != type) return nullptr;
  std::shared_ptr<KernelObject> object = std::move(it->second);
  objects_.erase(it);
  return object;
}

size_t HandleTable::Count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

}  // namespace fltport::fltsim
