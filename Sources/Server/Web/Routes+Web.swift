import Foundation
import HTTPTypes
import Hummingbird

/// The pages a person opens in a browser: the playground (`/`, `/playground`), the dashboard
/// (`/dashboard`) and their scripts and styles (`/ui/<file>`), all compiled into the binary.
/// `--no-ui` leaves these routes out, so `/` answers as before (404) and `/dashboard` is 404.
extension Routes {
  /// Pages carry no key: the playground asks for one itself and sends it with its API calls.
  static func isWebPath(_ path: String) -> Bool {
    ["/", "/playground", "/dashboard"].contains(path) || path.hasPrefix("/ui/")
  }

  static let webMethods: [(path: String, methods: String)] = [
    ("/", "GET"), ("/playground", "GET"), ("/dashboard", "GET"), ("/ui/*", "GET"),
  ]

  static func addWeb(to router: Router<ServerRequestContext>, _ server: ServerContext) {
    router.get("/") { request, _ in
      // API clients that ask for JSON only get what `/` gave them before the playground existed.
      guard wantsPage(request.headers[.accept]) else { throw APIError.notFound("/") }
      return page("playground.html")
    }
    router.get("/playground") { _, _ in page("playground.html") }
    router.get("/dashboard") { _, _ in page("dashboard.html") }
    router.get("/ui/{file}") { request, context in
      let name = context.parameters.get("file") ?? ""
      guard let asset = WebAsset.named(name), !name.hasSuffix(".html") else {
        throw APIError.notFound(request.uri.path)
      }
      return response(asset)
    }
  }

  /// A browser's `Accept` names text/html; curl's `*/*` and a missing header get the page too.
  /// Only a client that names JSON and not HTML is taken for an API client.
  static func wantsPage(_ accept: String?) -> Bool {
    guard let accept = accept?.lowercased() else { return true }
    if accept.contains("text/html") { return true }
    return !accept.contains("application/json")
  }

  private static func page(_ name: String) -> Response {
    // `all` holds every page by construction (WebAssetTests checks each one).
    response(WebAsset.named(name) ?? WebAsset(bytes: Array("missing page \(name)".utf8), contentType: "text/plain"))
  }

  private static func response(_ asset: WebAsset) -> Response {
    var headers: HTTPFields = [
      .contentType: asset.contentType,
      // The assets change with the binary: revalidate rather than run an old script on a new server.
      .cacheControl: "no-cache",
      .xContentTypeOptions: "nosniff",
    ]
    // Defence in depth under the renderer's textContent-only rule: no inline or foreign script can
    // run even if model output ever reached the DOM as markup.
    headers[.contentSecurityPolicy] =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
      + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
  }
}
