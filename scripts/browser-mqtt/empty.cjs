// Node-only modules mqtt.js requires but never uses in a browser (TCP, TLS, SOCKS transports, mini-program
// transports wx/ali, and the Node builtins they import): empty, as in mqtt.js's own browser build.
module.exports = {};
