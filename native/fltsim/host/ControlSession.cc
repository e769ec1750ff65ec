#include "ControlSession.h"

#include "ControlRegistry.h"
#include "../engine/ControlText.h"
#include "../engine/Log.h"
#include "WorkerPool.h"

namespace fltport::fltsim {
namespace {

constexpr unsigned kAllCategories = (1u << kEventCategoryCount) - 1;
constexpr const char* kCategoryNames[kEventCategoryCount] = {"port", "message", "driver", "mailslot"};
// Results must fit in one frame with room to spare.
constexpr size_t kMaxResult = FLTSIM_MAX_FRAME - 1024;

}  // namespace

std::shared_ptr<ControlSession> ControlSession::Create(HostContext context,
                                                       std::shared_ptr<Stream> stream) {
  return std::make_shared<ControlSession>(context, std::move(stream));
}

void ControlSession::OnHelloAnswered() { context_.events->Subscribe(shared_from_this()); }

ControlSession::ControlSession(HostContext context, std::shared_ptr<Stream> stream)
    : context_(context), stream_(std::move(stream)), mask_(kAllCategories) {}

bool ControlSession::OnFrame(const FLTSIM_FRAME_HEADER& header, const uint8_t* body, size_t size,
                             std::string* why) {
  if (header.Type != FLTSIM_CONTROL) {
    *why = "frame type " + std::to_string(header.Type) + " is not valid on a control stream";
    return false;
  }
  std::string line(reinterpret_cast<const char*>(body), size);
  if (line.find('\0') != std::string::npos) {
    *why = "CONTROL text contains a NUL byte";
    return false;
  }
  bool start;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.emplace_back(header.Tag, std::move(line));
    start = !running_;
    running_ = true;
  }
  if (start) {
    auto self = shared_from_this();
    context_.pool->Submit([self] { self->RunQueue(); });
  }
  return true;
}

void ControlSession::RunQueue() {
  while (true) {
    std::pair<uint64_t, std::string> item;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) {
        running_ = false;
        return;
      }
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    LogWrite(LogLevel::kDebug, "control %llu: %s", static_cast<unsigned long long>(stream_->id()),
             item.second.c_str());
    std::string result = Execute(item.second);
    if (result.size() > kMaxResult) {
      result = ControlError(0xC0000023, "result of " + std::to_string(result.size()) +
                                            " bytes does not fit in a frame");
    }
    stream_->SendFrame(FLTSIM_CONTROL_RESULT, item.first, result.data(), result.size());
  }
}

std::string ControlSession::Execute(const std::string& line) {
  ControlLine command;
  std::string error;
  if (ControlLine::Parse(line, &command, &error) && command.verb == "watch") {
    // Per-session state, so not a registry verb: watch events=port,message,driver,mailslot|all|none
    const std::string* events = command.Find("events");
    if (events == nullptr || command.args.size() != 1) {
      return ControlError(0xC000000D, "usage: watch events=all|none|port,message,driver,mailslot");
    }
    unsigned mask = 0;
    if (*events == "all") {
      mask = kAllCategories;
    } else if (*events != "none") {
      size_t start = 0;
      while (start <= events->size()) {
        size_t comma = events->find(',', start);
        std::string name = events->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        bool found = false;
        for (int i = 0; i < kEventCategoryCount; ++i) {
          if (name == kCategoryNames[i]) {
            mask |= 1u << i;
            found = true;
          }
        }
        if (!found) return ControlError(0xC000000D, "unknown event category " + name);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    mask_.store(mask);
    context_.events->Recompute();
    return ControlOk(LineBuilder("ok").Add("mask", mask));
  }
  return context_.registry->Execute(line);
}

void ControlSession::OnClosed() { context_.events->Unsubscribe(this); }

void ControlSession::SendEvent(const std::string& line) {
  if (line.size() > kMaxResult) {
    LogWrite(LogLevel::kWarn, "event of %zu bytes dropped: too large for a frame", line.size());
    return;
  }
  stream_->SendFrame(FLTSIM_CONTROL_EVENT, 0, line.data(), line.size());
}

}  // namespace fltport::fltsim
