/**
 * The two pieces of jose that `deviceJwt` uses. src/auth/jwt.ts imports this module dynamically,
 * on the first mint, so jose stays out of a page that never signs a JWT: in the browser bundle it
 * is its own chunk next to the entry (dist/browser/thingwire[.min]-jose-<hash>.js). Importing this
 * module rather than "jose" itself keeps the chunk to what is used (a dynamic import keeps every
 * export of its target).
 * @module
 */
export { importPKCS8, SignJWT } from "jose";
