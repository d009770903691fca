/// The four roles, strongest first.
public enum Role: String, Sendable, CaseIterable, Codable {
    case owner, admin, member, viewer
}
