// `debug` for mqtt.js in thingwire's browser bundle: logging off (thingwire reports through its own
// status and errors). CommonJS, as mqtt.js and mqtt-packet require it: they call debug("mqttjs…") and the returned function; nothing else.
const off = () => {};
off.enabled = false;
off.extend = () => off;
module.exports = function debug() {
  return off;
};
