import Web

extension Request {
    /// `?workspace_id=N` of a list (that workspace's items and the Public ones); 400 when it is no id.
    func workspaceQuery() throws(HTTPError) -> Int64? {
        guard let text = queryValue("workspace_id") else { return nil }
        guard text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let id = Int64(text) else {
            throw HTTPError.badRequest("workspace_id must be a workspace id", field: "workspace_id")
        }
        return id
    }
}
