// `url` for mqtt.js in thingwire's browser bundle: the one call mqtt.js makes, `url.parse(brokerUrl, true)`
// in lib/connect/index.js, on WHATWG URL, returning the legacy fields connect() reads (protocol, hostname,
// port, query, auth, path). CommonJS, as mqtt.js requires it. Replaces @jspm/core's full Node `url` (with punycode and querystring).
function parse(href) {
  let u;
  try {
    u = new URL(href);
  } catch {
    // no scheme (a relative WebSocket path): connect() checks for the missing protocol itself
    const q = href.indexOf("?");
    return { protocol: null, hostname: null, port: null, query: q < 0 ? {} : toQuery(new URLSearchParams(href.slice(q + 1))), auth: null, path: href };
  }
  // the port as written (WHATWG drops a default one: wss://host:443 → ""), as Node's url.parse keeps it
  const written = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)/i.exec(href);
  const auth = u.username || u.password ? decodeURIComponent(u.username) + (u.password ? ":" + decodeURIComponent(u.password) : "") : null;
  return {
    protocol: u.protocol,
    hostname: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: written ? written[1] : u.port || null,
    query: toQuery(u.searchParams),
    auth,
    path: u.pathname + u.search || null,
  };
}
function toQuery(params) {
  const query = {};
  for (const [k, v] of params) query[k] = Object.hasOwn(query, k) ? [].concat(query[k], v) : v;
  return query;
}
module.exports = { parse };
