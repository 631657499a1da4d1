/* Service worker of the safety-walk field pages (scope /<lang>/walks/).
 *
 * Served by Django at /<lang>/walks/sw.js (maps.walk_views.walk_worker), which puts
 * `self.CONVIVE_WALKS` before this source: the cache name (it changes whenever this file or a
 * precached asset changes, so a deploy replaces the old cache), the static files to precache, the
 * language's JavaScript catalogue, and the offline message in the page's language.
 *
 * Strategy:
 *   - pages and the stops list (GET, same origin, under the scope): network first, falling back to
 *     the last copy kept, so the recording page opens again with no connection;
 *   - the precached scripts and styles: cache first (their version is in the cache name);
 *   - the JavaScript catalogue: network first, so new translations arrive without a new worker;
 *   - everything else, and every POST (stops are sent by the page's own queue): untouched.
 */
/* global self, caches, fetch, Response, URL */
"use strict";

var CONFIG = self.CONVIVE_WALKS;
var SCOPE = new URL(self.registration.scope).pathname;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CONFIG.cache).then(function (cache) {
      // One by one: a single missing file must not leave the phone without the others.
      return Promise.all(CONFIG.precache.map(function (url) {
        return cache.add(new Request(url, { credentials: "same-origin", cache: "reload" })).catch(function () {});
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

/* Pages kept by an older version move to the new cache before it is deleted: an update (which
 * happens while online) must not leave a phone without its offline page for the next walk. */
function adoptPages(oldName, cache) {
  return caches.open(oldName).then(function (old) {
    return old.keys().then(function (requests) {
      return Promise.all(requests.map(function (request) {
        if (new URL(request.url).pathname.indexOf(SCOPE) !== 0) { return null; }
        return old.match(request).then(function (response) {
          return response ? cache.put(request, response) : null;
        });
      }));
    });
  });
}

self.addEventListener("activate", function (event) {
  event.waitUntil(
    Promise.all([caches.keys(), caches.open(CONFIG.cache)]).then(function (opened) {
      var names = opened[0], cache = opened[1];
      return Promise.all(names.map(function (name) {
        if (name.indexOf(CONFIG.cachePrefix) !== 0 || name === CONFIG.cache) { return null; }
        return adoptPages(name, cache).catch(function () {}).then(function () {
          return caches.delete(name);
        });
      }));
    }).then(function () { return self.clients.claim(); })
  );
});

/* The page asks for its own URL (and its stops) to be kept once the worker controls it. */
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "cache" || !Array.isArray(data.urls)) { return; }
  var urls = data.urls.filter(function (url) {
    var path = new URL(url, self.location.href);
    return path.origin === self.location.origin && path.pathname.indexOf(SCOPE) === 0;
  });
  event.waitUntil(
    caches.open(CONFIG.cache).then(function (cache) {
      return Promise.all(urls.map(function (url) {
        return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
          if (response.ok) { return cache.put(url, response).then(function () { return true; }); }
          return false;
        }).catch(function () { return false; });
      }));
    }).then(function (results) {
      if (event.source) {
        event.source.postMessage({ type: "cached", ok: results.length > 0 && results[0] === true });
      }
    })
  );
});

function offlinePage() {
  var o = CONFIG.offline;
  var html = "<!DOCTYPE html><html lang=\"" + o.lang + "\"><head><meta charset=\"utf-8\">" +
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" + o.title +
    "</title></head><body style=\"font-family:system-ui,sans-serif;padding:1rem;line-height:1.5\">" +
    "<h1>" + o.title + "</h1><p>" + o.body + "</p></body></html>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function networkFirst(request, keep) {
  return fetch(request).then(function (response) {
    // Only complete, successful answers are kept: never a 403, a redirect or an error page.
    if (keep && response.ok && response.type === "basic" && !response.redirected) {
      var copy = response.clone();
      caches.open(CONFIG.cache).then(function (cache) { cache.put(request.url.split("#")[0], copy); });
    }
    return response;
  }).catch(function () {
    return caches.open(CONFIG.cache).then(function (cache) {
      return cache.match(request, { ignoreSearch: true, ignoreVary: true });
    }).then(function (cached) {
      if (cached) { return cached; }
      if (request.mode === "navigate") { return offlinePage(); }
      return Response.error();
    });
  });
}

function cacheFirst(request) {
  return caches.open(CONFIG.cache).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (cached) {
      return cached || fetch(request).then(function (response) {
        if (response.ok) { cache.put(request, response.clone()); }
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; } // map tiles and the like: the network's
  if (CONFIG.networkFirst.indexOf(url.pathname) >= 0) {
    event.respondWith(networkFirst(request, true));
    return;
  }
  if (CONFIG.precache.indexOf(url.pathname) >= 0) {
    event.respondWith(cacheFirst(request));
    return;
  }
  if (url.pathname.indexOf(SCOPE) === 0 && url.pathname !== SCOPE + "sw.js") {
    // The record page and the stops list are kept; other pages in scope (joining) are not.
    var keep = /\/(record|stops)\/$/.test(url.pathname);
    event.respondWith(networkFirst(request, keep));
  }
});
