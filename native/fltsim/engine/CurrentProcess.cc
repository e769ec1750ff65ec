#include "CurrentProcess.h"

#include <memory>
#include <mutex>
#include <unordered_map>

#include "HandleTable.h"

namespace fltport::fltsim {
namespace {

thread_local uint32_t t_current_pid = kSystemProcessId;

struct ProcessObject : KernelObject {
  explicit ProcessObject(uint32_t p) : KernelObject(ObjectType::kProcess), pid(p) {}
  const uint32_t pid;
};

std::mutex g_mu;
std::unordered_map<uint32_t, uintptr_t>* g_by_pid = new std::unordered_map<uint32_t, uintptr_t>();

}  // namespace

uint32_t CurrentProcessId() { return t_current_pid; }

CurrentProcessScope::CurrentProcessScope(uint32_t pid) : saved_(t_current_pid) {
  t_current_pid = pid;
}

CurrentProcessScope::~CurrentProcessScope() { t_current_pid = saved_; }

uintptr_t ProcessHandleFor(uint32_t pid) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_by_pid->find(pid);
  if (it != g_by_pid->end()) return it->second;
  uintptr_t h = HandleTable::Global().Insert(std::make_shared<ProcessObject>(pid));
  g_by_pid->emplace(pid, h);
  return h;
}

bool ProcessIdFromHandle(uintptr_t handle, uint32_t* pid) {
  auto object = HandleTable::Global().LookupAs<ProcessObject>(handle, ObjectType::kProcess);
  if (!object) return false;
  *pid = object->pid;
  return true;
}

}  // namespace fltport::fltsim
