/// A batch's life, in OpenAI's words. `validating` → `in_progress` → `finalizing` → `completed`;
/// or `failed` (invalid input), `expired` (past its window), `cancelling` → `cancelled`.
public enum BatchStatus: String, Sendable, Codable, CaseIterable {
  case validating
  case failed
  case inProgress = "in_progress"
  case finalizing
  case completed
  case expired
  case cancelling
  case cancelled

  /// Nothing more will happen to it.
  public var isTerminal: Bool { [.failed, .completed, .expired, .cancelled].contains(self) }
}
