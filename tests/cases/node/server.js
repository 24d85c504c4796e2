'use strict'
// The Node cases of shared/cases/README.md, each the real npm package at the
// affected version, on its own free loopback port:
//
//   keycloakBearer  BUG-05  keycloak-connect 26.1.1, bearer-only
//   keycloakWeb     BUG-18  keycloak-connect 26.1.1, confidential client
//   passportJwt     BUG-06  passport 0.7.0 + passport-jwt 4.0.1
//   expressJwt      BUG-07  express-jwt 8.5.1, Express's default error handler
//   connectBasic    BUG-15  connect 2.3.9 basicAuth('bob', 'secret')
//   fastifyBearer   BUG-19  fastify 5 + @fastify/bearer-auth 10.1.3
//   mint            signs the tokens the tests put in the targets file
//
// Usage: node server.js READY_FILE. Once every app listens, their ports are
// written to READY_FILE as JSON; the process serves until it is terminated.

const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')

const connect = require('connect')
const express = require('express')
const session = require('express-session')
const fastify = require('fastify')
const bearerAuth = require('@fastify/bearer-auth')
const jwt = require('jsonwebtoken')
const { expressjwt } = require('express-jwt')
const Keycloak = require('keycloak-connect')
const passport = require('passport')
const { Strategy: JwtStrategy, ExtractJwt } = require('passport-jwt')

const LOOPBACK = '127.0.0.1'
const HS256_SECRET = 'case-secret-for-the-node-jwt-servers'
// The HS256 resource servers check issuer and audience, as careful apps do.
const ISSUER = 'https://case-issuer.example/'
const AUDIENCE = 'case-api'
const FASTIFY_KEY = 'fastify-token-8e7d6c5b4a39281706f5'
// keycloak-connect checks `iss` against <auth-server-url>/realms/<realm>; no
// Keycloak runs there: with realm-public-key it verifies tokens locally.
const KEYCLOAK_URL = 'http://127.0.0.1:9'
const KEYCLOAK_ISSUER = KEYCLOAK_URL + '/realms/demo'
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
const KEYCLOAK_PUBLIC_KEY = publicKey.export({ type: 'spki', format: 'der' }).toString('base64')

function keycloakApp (config) {
  const app = express()
  const store = new session.MemoryStore()
  app.use(session({ secret: 'case-session-secret', resave: false, saveUninitialized: true, store }))
  const keycloak = new Keycloak({ store }, {
    realm: 'demo',
    'auth-server-url': KEYCLOAK_URL,
    'ssl-required': 'none',
    'realm-public-key': KEYCLOAK_PUBLIC_KEY,
    ...config
  })
  app.use(keycloak.middleware())
  app.get('/p', keycloak.protect(), (req, res) => res.json({ ok: true }))
  app.get('/admin', keycloak.protect('realm:admin'), (req, res) => res.json({ ok: true, admin: true }))
  return app
}

function passportJwtApp () {
  const app = express()
  passport.use(new JwtStrategy({
    jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
    secretOrKey: HS256_SECRET,
    algorithms: ['HS256'],
    issuer: ISSUER,
    audience: AUDIENCE
  }, (payload, done) => done(null, payload)))
  app.use(passport.initialize())
  app.get('/p', passport.authenticate('jwt', { session: false }), (req, res) => res.json({ sub: req.user.sub }))
  return app
}

function expressJwtApp () {
  // No error middleware of our own: Express's default handler renders the
  // UnauthorizedError, stack trace included since NODE_ENV is unset.
  const app = express()
  app.get('/p', expressjwt({ secret: HS256_SECRET, algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE }), (req, res) => res.json({ sub: req.auth.sub }))
  return app
}

function connectBasicApp () {
  return connect()
    .use(connect.basicAuth('bob', 'secret'))
    .use((req, res) => res.end('ok'))
}

async function fastifyBearerApp () {
  const app = fastify()
  await app.register(bearerAuth, { keys: new Set([FASTIFY_KEY]) })
  app.get('/p', async () => ({ ok: true }))
  await app.listen({ host: LOOPBACK, port: 0 })
  return app.server.address().port
}

function mintApp () {
  const app = express()
  // /hs256?s=N: a token for bob expiring in N seconds (negative: expired).
  app.get('/hs256', (req, res) => {
    const seconds = Number(req.query.s || 600)
    const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'bob', exp: Math.floor(Date.now() / 1000) + seconds }
    res.json({ token: jwt.sign(claims, HS256_SECRET, { algorithm: 'HS256' }) })
  })
  // /keycloak?s=N&roles=a,b: an access token as Keycloak issues it.
  app.get('/keycloak', (req, res) => {
    const now = Math.floor(Date.now() / 1000)
    const roles = (req.query.roles || '').split(',').filter(Boolean)
    const claims = {
      iss: KEYCLOAK_ISSUER,
      sub: 'bob',
      typ: 'Bearer',
      azp: 'api',
      iat: now - 5,
      exp: now + Number(req.query.s || 600),
      realm_access: { roles }
    }
    res.json({ token: jwt.sign(claims, privateKey, { algorithm: 'RS256' }) })
  })
  return app
}

function listen (handler) {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler)
    server.once('error', reject)
    server.listen(0, LOOPBACK, () => resolve(server.address().port))
  })
}

async function main (readyFile) {
  const ports = {
    keycloakBearer: await listen(keycloakApp({ resource: 'api', 'bearer-only': true })),
    keycloakWeb: await listen(keycloakApp({ resource: 'web', credentials: { secret: 'case-client-secret' } })),
    passportJwt: await listen(passportJwtApp()),
    expressJwt: await listen(expressJwtApp()),
    connectBasic: await listen(connectBasicApp()),
    fastifyBearer: await fastifyBearerApp(),
    mint: await listen(mintApp())
  }
  fs.writeFileSync(readyFile + '.partial', JSON.stringify(ports))
  fs.renameSync(readyFile + '.partial', readyFile)
  // Serve until terminated, or until the test process that started us is gone.
  const parent = process.ppid
  setInterval(() => { if (process.ppid !== parent) process.exit(0) }, 1000)
}

main(process.argv[2]).catch((error) => {
  console.error(error)
  process.exit(1)
})
