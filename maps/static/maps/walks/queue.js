/* The phone's queue of safety-walk stops, in IndexedDB.
 *
 * A stop is put here the moment it is recorded, with the idempotency key made then, the phone's
 * time and the photo as a Blob, and stays until the server has answered 200/201 for that key (the
 * server stores a key once, so sending an item twice is harmless). Items the server refused (400)
 * stay too, marked "attention" with the server's messages, until someone fixes or discards them:
 * nothing recorded is ever dropped silently. IndexedDB survives reloads, closing the browser and
 * restarting the phone; the page is served offline by the service worker (sw.js).
 *
 * Exposed as window.ConviveWalkQueue; every function returns a Promise.
 */
(function () {
  "use strict";

  var DB_NAME = "convive-walks";
  var DB_VERSION = 1;
  var STORE = "stops";
  var opening = null;

  function open() {
    if (opening) { return opening; }
    opening = new Promise(function (resolve, reject) {
      if (!("indexedDB" in window)) {
        reject(new Error("IndexedDB is not available"));
        return;
      }
      var request;
      try {
        request = window.indexedDB.open(DB_NAME, DB_VERSION);
      } catch (error) {
        reject(error);
        return;
      }
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains(STORE)) {
          var store = db.createObjectStore(STORE, { keyPath: "key" });
          store.createIndex("walk", "walk", { unique: false });
        }
      };
      request.onsuccess = function () {
        var db = request.result;
        // Another tab upgrading the schema: close so it is not blocked; the next call reopens.
        db.onversionchange = function () { db.close(); opening = null; };
        resolve(db);
      };
      request.onerror = function () { reject(request.error); };
      request.onblocked = function () { reject(new Error("IndexedDB is blocked")); };
    });
    opening.catch(function () { opening = null; });
    return opening;
  }

  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result;
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error || new Error("aborted")); };
        result = work(tx.objectStore(STORE));
        if (result && typeof result === "object" && "onsuccess" in result) {
          var req = result;
          req.onsuccess = function () { result = req.result; };
        }
      });
    });
  }

  /* Items of one walk in the order they were recorded (phone time, then a sequence number). */
  function list(walk) {
    return run("readonly", function (store) {
      return store.index("walk").getAll(walk);
    }).then(function (items) {
      return (items || []).sort(function (a, b) {
        if (a.recordedAt !== b.recordedAt) { return a.recordedAt < b.recordedAt ? -1 : 1; }
        return (a.seq || 0) - (b.seq || 0);
      });
    });
  }

  function get(key) {
    return run("readonly", function (store) { return store.get(key); });
  }

  function put(item) {
    return run("readwrite", function (store) { store.put(item); }).then(function () { return item; });
  }

  function remove(key) {
    return run("readwrite", function (store) { store.delete(key); });
  }

  window.ConviveWalkQueue = { open: open, list: list, get: get, put: put, remove: remove };
})();
