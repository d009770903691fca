import Deliveries
import Foundation
import Integrations
import WaymarkCore
import Web

// What the Status and webhooks templates read (Mustache contexts stay dictionaries).

extension DeliveryRow {
    var page: [String: Any] {
        [
            "id": id, "kind": kind, "target": targetName, "method": method, "url": url, "state": state, "attempts": attempts,
            "max_attempts": maxAttempts, "last_error": lastError, "next_attempt_at": RFC3339.string(from: nextAttemptAt),
            "created_at": RFC3339.string(from: createdAt), "click_id": clickID, "click_href": "/clicks/" + URLEncoding.encode(clickID),
            "tries": tries.map(\.page), "failed": state == "failed", "pending": state == "pending", "has_click": !clickID.isEmpty,
        ]
    }
}

extension DeliveryRow.Try {
    /// JSON nulls become empty text: the page shows a blank, not "<null>".
    var page: [String: Any] {
        [
            "at": at ?? "", "status": status.map(String.init) ?? "", "answer": answer ?? "", "error": error ?? "",
            "ms": ms.map(String.init) ?? "",
        ]
    }
}

extension Webhook {
    /// The secret only for those who may edit the webhook.
    func page(editable: Bool) -> [String: Any] {
        var item: [String: Any] = ["id": id, "url": url, "workspace": workspaceName, "enabled": enabled, "editable": editable]
        if editable { item["secret"] = secret }
        return item
    }
}

extension WorkerHeartbeatStore.Heartbeat {
    var page: [String: Any] {
        ["id": workerID, "host": hostname, "pid": pid, "beat_at": RFC3339.string(from: beatAt), "alive": alive]
    }
}
