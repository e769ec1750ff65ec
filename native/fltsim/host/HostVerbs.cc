#include "HostVerbs.h"

#include <unistd.h>

#include "ControlRegistry.h"
#include "HostedFilter.h"
#include "../engine/HandleTable.h"
#include "../engine/KernelSupport.h"
#include "../engine/Log.h"
#include "../engine/MailslotEngine.h"
#include "../engine/ObjectName.h"
#include "../engine/PortEngine.h"
#include "../engine/SimKernel.h"
#include "StatusTable.h"
#include "fltsim/wire.h"

namespace fltport::fltsim {
namespace {

namespace nt = core::nt;

const char* StateName(ConnectionState s) {
  switch (s) {
    case ConnectionState::kConnecting:
      return "connecting";
    case ConnectionState::kConnected:
      return "connected";
    default:
      return "disconnected";
  }
}

void AddConnection(LineBuilder* b, const ConnectionInfo& c, const std::string& s) {
  b->Add("id" + s, c.id)
      .Add("port" + s, c.port)
      .Add("pid" + s, c.peer.pid)
      .Add("uid" + s, c.peer.uid)
      .Add("gid" + s, c.peer.gid)
      .Add("state" + s, StateName(c.state))
      .Add("gets" + s, c.pending_gets)
      .Add("senders" + s, c.blocked_senders)
      .Add("waiters" + s, c.reply_waiters)
      .Add("delivered" + s, c.delivered)
      .Add("replied" + s, c.replied)
      .Add("driver_closed" + s, c.driver_closed ? 1 : 0)
      .Add("user_closed" + s, c.user_closed ? 1 : 0)
      .Add("slot" + s, c.slot_held ? 1 : 0)
      .Add("size" + s, c.context.size())
      .AddBytes("context" + s, c.context.data(), c.context.size());
}

void AddMailslot(LineBuilder* b, const MailslotInfo& m, const std::string& s) {
  b->Add("ms" + s, m.id)
      .Add("name" + s, m.name)
      .Add("kernel" + s, m.kernel_owned ? 1 : 0)
      .Add("max" + s, m.max_message_size)
      .Add("quota" + s, m.quota)
      .Add("next" + s, m.next_size)
      .Add("count" + s, m.count)
      .Add("timeout" + s, std::to_string(m.read_timeout))
      .Add("reads" + s, m.pending_reads);
}

uint64_t ConnectionArg(const ControlLine& command, PortEngine& ports) {
  std::string id = ArgString(command, "id");
  if (id == "newest") {
    uint64_t newest = ports.NewestConnectionId();
    if (newest == 0) throw ControlFailure{nt::kPortDisconnected, "no live connection"};
    return newest;
  }
  return ArgU64(command, "id");
}

}  // namespace

void RegisterFilterVerbs(ControlRegistry* registry, HostedFilter* hosted);

void RegisterHostVerbs(ControlRegistry* registry, SimKernel* kernel, std::shared_ptr<Filter> filter) {
  auto* hosted = new HostedFilter(kernel, filter->name, "370030");  // process lifetime
  hosted->Adopt(std::move(filter));
  RegisterHostVerbs(registry, kernel, hosted);
}

void RegisterHostVerbs(ControlRegistry* registry, SimKernel* kernel, HostedFilter* hosted) {
  RegisterFilterVerbs(registry, hosted);
  registry->Add("help", "help", [registry](const ControlLine& command) {
    ArgsAllowed(command, {});
    std::string verbs = "watch";
    for (const auto& [verb, usage] : registry->List()) verbs += "," + verb;
    return ControlOk(LineBuilder("ok").Add("verbs", verbs));
  });

  registry->Add("ping", "ping", [](const ControlLine& command) {
    ArgsAllowed(command, {});
    return ControlOk(LineBuilder("ok").Add("pid", static_cast<uint64_t>(getpid())));
  });

  registry->Add("option", "option name=<option> [value=<value>]", [kernel](const ControlLine& command) {
    ArgsAllowed(command, {"name", "value"});
    std::string name = ArgString(command, "name");
    if (ArgPresent(command, "value")) {
      std::string error;
      if (!kernel->options().SetByName(name, ArgString(command, "value"), &error)) {
        throw ControlFailure{nt::kInvalidParameter, error};
      }
    }
    std::string value;
    if (!GetSimOption(kernel->options().Get(), name, &value)) {
      throw ControlFailure{nt::kInvalidParameter, "unknown option " + name};
    }
    return ControlOk(LineBuilder("ok").Add("name", name).Add("value", value));
  });

  registry->Add("options", "options", [kernel](const ControlLine& command) {
    ArgsAllowed(command, {});
    SimOptions options = kernel->options().Get();
    LineBuilder b("ok");
    for (const auto& info : SimOptionCatalog()) {
      std::string value;
      GetSimOption(options, info.name, &value);
      b.Add(info.name, value);
    }
    return ControlOk(b);
  });

  registry->Add("log", "log level=error|warn|info|debug|trace", [](const ControlLine& command) {
    ArgsAllowed(command, {"level"});
    LogLevel level;
    if (!ParseLogLevel(ArgString(command, "level"), &level)) {
      throw ControlFailure{nt::kInvalidParameter, "level: unknown log level"};
    }
    SetLogLevel(level);
    return ControlOk(LineBuilder("ok").Add("level", LogLevelName(level)));
  });

  registry->Add("ports", "ports", [kernel](const ControlLine& command) {
    ArgsAllowed(command, {});
    auto ports = kernel->ports().ListPorts();
    LineBuilder b("ok");
    b.Add("count", ports.size());
    for (size_t i = 0; i < ports.size(); ++i) {
      // List entries use the "key.I" form, like filters.list (docs/fltsim.md).
      const std::string s = "." + std::to_string(i);
      b.Add("name" + s, ports[i].name)
          .Add("filter" + s, ports[i].filter)
          .Add("max" + s, static_cast<uint64_t>(ports[i].max_connections))
          .Add("connections" + s, ports[i].connections)
          .Add("closed" + s, ports[i].closed ? 1 : 0)
          .Add("notify" + s, ports[i].has_message_notify ? 1 : 0);
    }
    return ControlOk(b);
  });

  registry->Add("conns", "conns", [kernel](const ControlLine& command) {
    ArgsAllowed(command, {});
    auto conns = kernel->ports().ListConnections();
    LineBuilder b("ok");
    b.Add("count", conns.size());
    for (size_t i = 0; i < conns.size(); ++i) AddConnection(&b, conns[i], "." + std::to_string(i));
    return ControlOk(b);
  });

  registry->Add("conn", "conn id=<id>|newest", [kernel](const ControlLine& command) {
    ArgsAllowed(command, {"id"});
    ConnectionInfo info;
    if (!kernel->ports().GetConnection(ConnectionArg(command, kernel->ports()), &info)) {
      throw ControlFailure{nt::kInvalidHandle, "no such connection"};
    }
    LineBuilder b("ok");
    AddConnection(&b, info, "");
    return ControlOk(b);
  });

  registry->Add(
      "conn.wait",
      "conn.wait id=<id>|newest [state=connected|disconnected] [gets=N] [min_gets=N] [senders=N] "
      "[waiters=N] [slot=0|1] [timeout=<ms>]",
      [kernel](const ControlLine& command) {
        ArgsAllowed(command, {"id", "state", "gets", "min_gets", "senders", "waiters", "slot", "timeout"});
        // Bounded: a control session blocked here answers nothing else until the wait ends.
        constexpr uint64_t kMaxWaitMs = 3600 * 1000;
        const uint64_t timeout_ms = ArgU64(command, "timeout", 5000);
        if (timeout_ms > kMaxWaitMs) {
          throw ControlFailure{nt::kInvalidParameter, "timeout: at most 3600000 ms (one hour)"};
        }
        const uint64_t id = ConnectionArg(command, kernel->ports());
        const std::string state = ArgString(command, "state", "");
        if (!state.empty() && state != "connected" && state != "disconnected") {
          throw ControlFailure{nt::kInvalidParameter, "state: connected or disconnected"};
        }
        const bool has_gets = ArgPresent(command, "gets");
        // At least N pending receives: what a client's "my receives are armed" looks like.
        const uint64_t min_gets = ArgU64(command, "min_gets", 0);
        const bool has_senders = ArgPresent(command, "senders");
        const bool has_waiters = ArgPresent(command, "waiters");
        const bool has_slot = ArgPresent(command, "slot");
        const uint64_t gets = ArgU64(command, "gets", 0);
        const uint64_t senders = ArgU64(command, "senders", 0);
        const uint64_t waiters = ArgU64(command, "waiters", 0);
        const bool slot = ArgBool(command, "slot", false);
        ConnectionInfo last;
        bool met = kernel->ports().WaitForConnection(
            id,
            [&](const ConnectionInfo& c) {
              last = c;
              return (state.empty() || state == StateName(c.state)) &&
                     (!has_gets || c.pending_gets == gets) && c.pending_gets >= min_gets &&
                     (!has_senders || c.blocked_senders == senders) &&
                     (!has_waiters || c.reply_waiters == waiters) && (!has_slot || c.slot_held == slot);
            },
            Deadline::AfterMilliseconds(static_cast<int64_t>(timeout_ms)));
        if (!met) throw ControlFailure{nt::kTimeout, "condition not met within the timeout"};
        LineBuilder b("ok");
        AddConnection(&b, last, "");
        return ControlOk(b);
      });

  registry->Add("unload", "unload [mandatory=0|1]", [hosted](const ControlLine& command) {
    ArgsAllowed(command, {"mandatory"});
    const uint32_t flags = ArgBool(command, "mandatory", false) ? 1u : 0u;  // FLTFL_FILTER_UNLOAD_MANDATORY
    uint32_t status = hosted->Unload(flags);
    if (status != nt::kSuccess) throw ControlFailure{status, "the filter did not unload"};
    return ControlOk(LineBuilder("ok").Add("filter", hosted->name()));
  });

  registry->Add("ms.list", "ms.list", [kernel](const ControlLine& command) {
    ArgsAllowed(command, {});
    auto slots = kernel->mailslots().List();
    LineBuilder b("ok");
    b.Add("count", slots.size());
    for (size_t i = 0; i < slots.size(); ++i) AddMailslot(&b, slots[i], "." + std::to_string(i));
    return ControlOk(b);
  });

  registry->Add("ms.info", "ms.info name=<mailslot name>", [kernel](const ControlLine& command) {
    ArgsAllowed(command, {"name"});
    std::shared_ptr<Mailslot> slot;
    uint32_t status = kernel->mailslots().Open(ArgName(command, "name"), &slot);
    if (status != nt::kSuccess) throw ControlFailure{status, "cannot open the mailslot"};
    LineBuilder b("ok");
    AddMailslot(&b, kernel->mailslots().Query(*slot), "");
    return ControlOk(b);
  });

  registry->Add("ms.write", "ms.write name=<mailslot name> (hex=<bytes> | size=N [fill=<byte>])",
                [kernel](const ControlLine& command) {
                  ArgsAllowed(command, {"name", "hex", "size", "fill"});
                  std::vector<uint8_t> data;
                  if (ArgPresent(command, "hex")) {
                    data = ArgHex(command, "hex");
                  } else {
                    uint64_t size = ArgU64(command, "size");
                    if (size > FLTSIM_MAX_FRAME) throw ControlFailure{nt::kInvalidParameter, "size: too large"};
                    data.assign(size, static_cast<uint8_t>(ArgU64(command, "fill", 0)));
                  }
                  // A user-side writer: open the client end, write one message, close.
                  std::shared_ptr<Mailslot> slot;
                  uint32_t status = kernel->mailslots().Open(ArgName(command, "name"), &slot);
                  if (status == nt::kSuccess) {
                    status = kernel->mailslots().Write(*slot, data.data(), static_cast<uint32_t>(data.size()));
                  }
                  if (status != nt::kSuccess) throw ControlFailure{status, "mailslot write failed"};
                  return ControlOk(LineBuilder("ok").Add("written", data.size()));
                });

  registry->Add("pool", "pool", [](const ControlLine& command) {
    ArgsAllowed(command, {});
    PoolStats s = GetPoolStats();
    return ControlOk(LineBuilder("ok")
                         .Add("allocations", s.outstanding_allocations)
                         .Add("bytes", s.outstanding_bytes)
                         .Add("tag_mismatches", s.tag_mismatches)
                         .Add("bad_frees", s.bad_frees));
  });

  registry->Add("handles", "handles", [](const ControlLine& command) {
    ArgsAllowed(command, {});
    return ControlOk(LineBuilder("ok").Add("count", HandleTable::Global().Count()));
  });
}

}  // namespace fltport::fltsim
