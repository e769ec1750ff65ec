#include "SimKernel.h"

#include "HandleTable.h"
#include "MailslotEngine.h"
#include "PortEngine.h"

namespace fltport::fltsim {
namespace {
std::atomic<SimKernel*> g_current{nullptr};
}  // namespace

SimKernel::SimKernel(const SimOptions& options, uint32_t host_uid)
    : options_(options),
      host_uid_(host_uid),
      ports_(std::make_unique<PortEngine>(this)),
      mailslots_(std::make_unique<MailslotEngine>(this)) {
  g_current.store(this);
}

SimKernel::~SimKernel() {
  Shutdown();
  SimKernel* self = this;
  g_current.compare_exchange_strong(self, nullptr);
}

SimKernel* SimKernel::Current() { return g_current.load(); }

std::shared_ptr<Filter> SimKernel::FilterFromHandle(uintptr_t handle) {
  return HandleTable::Global().LookupAs<Filter>(handle, ObjectType::kFilter);
}

void SimKernel::Shutdown() {
  ports_->UnregisterAll();
  mailslots_->Shutdown();
}

}  // namespace fltport::fltsim
