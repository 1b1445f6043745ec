"""Tests for the tree-sitter tag queries in ``codeassist/parsing/queries/*.scm``.

The symbol extractor relies on a small contract for every query pattern: each
match carries exactly one ``@definition.<kind>`` or ``@reference.<kind>``
capture (on the whole definition / reference node) plus one ``@name`` capture.
These tests check that contract statically (per pattern) and at runtime, and
run every query over a realistic sample to check what it finds.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tree_sitter import Parser, QueryCursor

from codeassist.parsing import languages
from codeassist.parsing.languages import CODE_LANGUAGES, load_language, load_query

QUERY_DIR = Path(languages.__file__).parent / "queries"

DEFINITION_KINDS = {
    "function", "method", "class", "struct", "interface", "trait",
    "enum", "module", "constant", "type", "macro",
}
REFERENCE_KINDS = {"call", "import", "type", "inherit", "new"}

# --------------------------------------------------------------------- samples

SAMPLES: dict[str, str] = {}

SAMPLES["python"] = r'''
import os
import collections.abc as cabc
from typing import Optional, List as L
from .utils import helper
from . import sibling

MAX_SIZE = 100
DEFAULT_NAME: str = "x"


class Base:
    pass


class Shape(Base, cabc.Sized, metaclass=Meta):
    """A shape."""

    sides = 0

    def __init__(self, name: str, parent: Optional[Node] = None) -> None:
        self.name = name
        self.parent = os.path.join(name, "x")

    @property
    def area(self) -> float:
        def inner():
            return helper(self.name)
        return inner()


def build(kind: Shape) -> Shape:
    result = Shape("a")
    result.area.compute()
    return result


async def fetch(url):
    await sibling.get(url)
'''

SAMPLES["javascript"] = r'''
import React, { useState, useEffect as useFx } from "react";
import * as path from "node:path";
import "./styles.css";
const fs = require("fs");
export { helper } from "./helper.js";

const MAX_ITEMS = 50;
export const API_URL = "https://example.com";
let counter = 0;

class Animal {
  constructor(name) {
    this.name = name;
  }
}

export class Dog extends Animal {
  static create(name) {
    return new Dog(name);
  }

  bark() {
    console.log(path.join(this.name, "woof"));
  }

  get loud() { return true; }
}

function* ids() { yield 1; }

export default function main() {
  const dog = Dog.create("rex");
  dog.bark();
  const handler = (event) => fetchData(event);
  const legacy = function () { return helper(); };
  const obj = { run() { return 1; }, stop: () => 2 };
  module.exports.util = function () {};
  return handler;
}
'''

SAMPLES["typescript"] = r'''
import { Injectable, type Logger } from "@angular/core";
import * as util from "./util";
import Default from "./default";

export const VERSION: string = "1.0";
const RETRIES = 3 as const;

export interface Repository<T> extends Base, Iterable<T> {
  find(id: number): T | undefined;
}

export type UserId = string | number;

enum Color { Red, Green }

declare module "ext" {
  export function ext(): void;
}

namespace Geometry {
  export const PI = 3.14;
}

export abstract class Store<T> extends BaseStore implements Repository<T>, Disposable {
  private items: Map<UserId, T> = new Map();
  abstract validate(item: T): boolean;

  constructor(private readonly logger: Logger) {
    super();
  }

  public find(id: number): T | undefined {
    this.logger.debug(util.format(id));
    return this.items.get(id);
  }
}

export function createStore(): Store<User> {
  const save = async (u: User): Promise<void> => { await persist(u); };
  return new MemoryStore<User>();
}

function overload(x: string): string;
'''

SAMPLES["tsx"] = r'''
import React, { useState } from "react";
import { Button } from "./ui/button";
import * as icons from "./icons";

export const DEFAULT_LABEL = "Save";

interface Props extends React.HTMLAttributes<HTMLDivElement> {
  label?: string;
  onSave: (value: Draft) => void;
}

type Draft = { text: string };

export function Editor({ label = DEFAULT_LABEL, onSave }: Props) {
  const [draft, setDraft] = useState<Draft>({ text: "" });
  const handleSave = () => onSave(draft);
  return (
    <Panel title={label}>
      <textarea value={draft.text} onChange={(e) => setDraft({ text: e.target.value })} />
      <icons.Check size={12} />
      <Button onClick={handleSave}>{label}</Button>
    </Panel>
  );
}

class Panel extends React.Component<PanelProps> {
  render() {
    return <div className="panel">{this.props.children}</div>;
  }
}
'''

SAMPLES["go"] = r'''
package store

import (
	"context"
	"fmt"
	log "github.com/sirupsen/logrus"
)

import "strings"

const MaxItems = 100

const (
	ModeRead  Mode = iota
	ModeWrite
)

var DefaultName = "store"

type Mode int

type Item struct {
	ID   string
	Tags []string
}

type Repository interface {
	Get(ctx context.Context, id string) (*Item, error)
}

type Handler func(item *Item) error

type MemoryStore struct {
	Repository
	items map[string]*Item
}

func NewMemoryStore() *MemoryStore {
	return &MemoryStore{items: make(map[string]*Item)}
}

func (s *MemoryStore) Get(ctx context.Context, id string) (*Item, error) {
	log.Debug(strings.ToUpper(id))
	item, ok := s.items[id]
	if !ok {
		return nil, fmt.Errorf("missing %s", id)
	}
	return item, nil
}

func Map[T any, U any](xs []T, f func(T) U) []U { return nil }
'''

SAMPLES["rust"] = r'''
use std::collections::HashMap;
use std::fmt::{self, Display, Write as _};
use crate::store::*;
use serde;

pub const MAX_ITEMS: usize = 100;
static GREETING: &str = "hi";

pub mod storage {
    pub struct Item {
        pub id: u64,
    }
}

#[derive(Debug)]
pub struct Store<T> {
    items: HashMap<u64, T>,
}

pub enum Event { Added(Item), Removed }

pub trait Repository: Send + Sync {
    fn get(&self, id: u64) -> Option<&Item>;
    fn count(&self) -> usize { 0 }
}

type Result<T> = std::result::Result<T, Error>;

union Bits { i: u32, f: f32 }

impl<T: Clone> Repository for Store<T> {
    fn get(&self, id: u64) -> Option<&Item> {
        self.items.get(&id).map(|x| helper(x))
    }
}

impl Store<Item> {
    pub fn new() -> Self {
        let s = Store { items: HashMap::new() };
        println!("{}", s.len());
        storage::init::<Item>();
        s
    }
}

macro_rules! square {
    ($x:expr) => { $x * $x };
}

fn main() {
    let store = Store::<Item>::new();
    process(&store);
}
'''

SAMPLES["java"] = r'''
package com.example.store;

import java.util.List;
import java.util.concurrent.*;
import static java.util.Objects.requireNonNull;

public class MemoryStore<T extends Item> extends AbstractStore implements Repository<T>, AutoCloseable {
    public static final int MAX_ITEMS = 100;
    private final List<T> items = new ArrayList<>();

    public MemoryStore(Logger logger) {
        super(logger);
    }

    @Override
    public T find(String id) {
        requireNonNull(id);
        return items.stream().filter(i -> i.matches(id)).findFirst().orElse(null);
    }

    private static class Node {
        Node next;
    }
}

interface Repository<T> extends Iterable<T> {
    T find(String id);
}

enum Color { RED, GREEN; Color() {} }

record Point(int x, int y) implements Shape {}

@interface Marker {}
'''

SAMPLES["c"] = r'''
#include <stdio.h>
#include "store.h"

#define MAX_ITEMS 100
#define SQUARE(x) ((x) * (x))

typedef struct item {
    int id;
    struct item *next;
} item_t;

typedef unsigned long size_type;
typedef int (*callback_fn)(const item_t *item);

struct store {
    item_t *head;
    size_type count;
};

union value { int i; float f; };

enum color { RED, GREEN };

static const int DEFAULT_CAPACITY = 16;

struct store *store_new(size_type capacity);

static item_t *find_item(struct store *s, int id) {
    for (item_t *it = s->head; it; it = it->next) {
        if (it->id == id) return it;
    }
    return NULL;
}

int main(int argc, char **argv) {
    struct store *s = store_new(DEFAULT_CAPACITY);
    printf("%p\n", (void *)find_item(s, SQUARE(2)));
    s->cb(s);
    return 0;
}
'''

SAMPLES["cpp"] = r'''
#include <vector>
#include "store/item.hpp"

#define STORE_API __attribute__((visibility("default")))

namespace store {

constexpr int kMaxItems = 100;

template <typename T>
class Repository {
public:
    virtual ~Repository() = default;
    virtual T* find(int id) = 0;
};

struct Item {
    int id;
    std::string name;
};

class MemoryStore : public Repository<Item>, private Logger {
public:
    explicit MemoryStore(size_t capacity);
    Item* find(int id) override {
        log("find");
        return lookup(id);
    }
    bool operator==(const MemoryStore& other) const;
private:
    std::vector<Item> items_;
};

MemoryStore::MemoryStore(size_t capacity) : items_() {
    items_.reserve(capacity);
}

bool MemoryStore::operator==(const MemoryStore& other) const { return true; }

enum class Color { Red, Green };

using ItemList = std::vector<Item>;

}  // namespace store

int main() {
    auto* s = new store::MemoryStore(10);
    s->find(1);
    std::sort(v.begin(), v.end());
    return 0;
}
'''

SAMPLES["csharp"] = r'''
using System;
using System.Collections.Generic;
using static System.Math;
using Alias = System.Text.StringBuilder;

namespace Example.Store
{
    public interface IRepository<T> where T : Item
    {
        T Find(string id);
    }

    public class MemoryStore : BaseStore, IRepository<Item>, IDisposable
    {
        public const int MaxItems = 100;
        private readonly List<Item> _items = new List<Item>();

        public MemoryStore(ILogger logger) : base(logger) { }

        public Item Find(string id)
        {
            Console.WriteLine(id);
            return _items.Find(i => i.Id == id);
        }

        public int Count { get; set; }

        public void Dispose() => Helper.Cleanup(this);
    }

    public struct Point { public int X; }

    public enum Color { Red, Green }

    public record Person(string Name);

    public delegate void Handler(object sender);
}
'''

SAMPLES["ruby"] = r'''
require "json"
require_relative "store/item"
load "config.rb"

module Storage
  MAX_ITEMS = 100

  class MemoryStore < BaseStore
    include Enumerable
    extend Forwardable
    attr_reader :items

    def initialize(logger)
      super()
      @items = []
      @logger = logger
    end

    def self.build(*args)
      new(*args)
    end

    def find(id)
      @logger.debug("find #{id}")
      @items.detect { |i| i.id == id }
    end

    def <=>(other)
      count <=> other.count
    end
  end

  class Admin::Store < Storage::MemoryStore
  end
end

def helper
  Storage::MemoryStore.new(Logger.new).find(1)
end
'''

SAMPLES["php"] = r'''
<?php

namespace App\Store;

use App\Contracts\Repository;
use Psr\Log\LoggerInterface as Logger;
use function App\Support\helper;

const MAX_ITEMS = 100;
define('LEGACY_LIMIT', 10);

interface Cacheable
{
    public function cacheKey(): string;
}

trait Loggable
{
    protected function log(string $msg): void
    {
        $this->logger->info($msg);
    }
}

abstract class BaseStore {}

final class MemoryStore extends BaseStore implements Repository, Cacheable
{
    use Loggable;

    public const VERSION = '1.0';
    private array $items = [];

    public function __construct(private Logger $logger) {}

    public function find(string $id): ?Item
    {
        $this->log("find");
        return Item::fromArray(array_filter($this->items));
    }

    public static function create(): self
    {
        return new MemoryStore(new NullLogger());
    }
}

enum Status: string { case Active = 'a'; }

function build_store(Logger $logger): MemoryStore
{
    return helper(new MemoryStore($logger));
}
'''

SAMPLES["kotlin"] = r'''
package com.example.store

import kotlin.collections.List
import com.example.util.*
import org.slf4j.Logger as Log

const val MAX_ITEMS = 100
val DEFAULT_NAME = "store"

interface Repository<T> {
    fun find(id: String): T?
}

data class Item(val id: String, val tags: List<String>)

open class BaseStore(protected val logger: Log)

class MemoryStore(logger: Log) : BaseStore(logger), Repository<Item>, AutoCloseable {
    private val items = mutableListOf<Item>()

    override fun find(id: String): Item? {
        logger.info("find $id")
        return items.firstOrNull { it.id == id }
    }

    override fun close() = items.clear()

    companion object {
        fun create(): MemoryStore = MemoryStore(LoggerFactory.getLogger("x"))
    }
}

object Registry {
    fun register(store: Repository<Item>) { println(store) }
}

enum class Color { RED, GREEN }

typealias ItemList = List<Item>

fun Item.describe(): String = helper(id)
'''

SAMPLES["swift"] = r'''
import Foundation
import struct UIKit.CGPoint

let maxItems = 100
var defaultName: String = "store"

protocol Repository: AnyObject {
    associatedtype Element
    func find(id: String) -> Element?
}

struct Item: Codable, Hashable {
    let id: String
    var tags: [String]
}

enum Color: String {
    case red, green
}

class BaseStore {
    init() {}
}

final class MemoryStore: BaseStore, Repository {
    private var items: [String: Item] = [:]

    override init() {
        super.init()
    }

    func find(id: String) -> Item? {
        print("find \(id)")
        return items[id].map { normalize($0) }
    }

    static func make() -> MemoryStore { MemoryStore() }
}

extension MemoryStore: CustomStringConvertible {
    var description: String { String(describing: items.count) }
}

typealias ItemMap = [String: Item]

func helper(_ store: MemoryStore) -> Int {
    return store.find(id: "x").map(count) ?? 0
}
'''

SAMPLES["bash"] = r'''
#!/usr/bin/env bash
set -euo pipefail

source ./lib/common.sh
. "$HOME/.config/env.sh"

readonly MAX_RETRIES=3
LOG_DIR="/var/log/app"

log() {
    echo "[$(date +%s)] $*" >>"$LOG_DIR/app.log"
}

function retry {
    local n=0
    until "$@"; do
        n=$((n + 1))
        log "retry $n"
        sleep 1
    done
}

deploy_app() {
    retry git pull --ff-only
    build_assets "$1" | tee build.log
}

main() {
    deploy_app "${1:-prod}"
}

main "$@"
'''

SAMPLES["scala"] = r'''
package com.example.store

import scala.collection.mutable
import com.example.util.{Helper, Logger => Log}
import java.time._

val MaxItems = 100

trait Repository[T] {
  def find(id: String): Option[T]
}

abstract class BaseStore(logger: Log)

case class Item(id: String, tags: List[String])

class MemoryStore(logger: Log) extends BaseStore(logger) with Repository[Item] with AutoCloseable {
  private val items = mutable.Map.empty[String, Item]
  var count: Int = 0

  override def find(id: String): Option[Item] = {
    logger.info(s"find $id")
    items.get(id).map(normalize)
  }

  def close(): Unit = items.clear()
}

object MemoryStore {
  val DefaultName = "store"
  def apply(): MemoryStore = new MemoryStore(Log.default())
}

enum Color {
  case Red, Green
}

type ItemMap = Map[String, Item]

def helper(store: MemoryStore): Int = store.find("x").size
'''

SAMPLES["lua"] = r'''
local json = require("cjson")
local util = require "app.util"

local M = {}

MAX_ITEMS = 100
local DEFAULT_NAME = "store"

local Store = {}
Store.__index = Store

function Store.new(logger)
  local self = setmetatable({}, Store)
  self.logger = logger
  self.items = {}
  return self
end

function Store:find(id)
  self.logger:debug("find " .. id)
  return util.lookup(self.items, id)
end

local function normalize(s)
  return string.lower(s)
end

function M.helper(store)
  return normalize(json.encode(store:find(1)))
end

M.handler = function(event) print(event) end
local cb = function() end

function global_fn() end

return M
'''


# Expected (kind, name) pairs: `defs`/`refs` must all be found; `absent_*` must not be.
EXPECTED: dict[str, dict[str, set[tuple[str, str]]]] = {
    "python": dict(
        defs={("class", "Base"), ("class", "Shape"), ("constant", "MAX_SIZE"), ("constant", "DEFAULT_NAME"),
              ("function", "__init__"), ("function", "area"), ("function", "inner"), ("function", "build"),
              ("function", "fetch")},
        refs={("import", "os"), ("import", "collections.abc"), ("import", "typing"), ("import", "Optional"),
              ("import", "List"), ("import", ".utils"), ("import", "helper"), ("import", "."), ("import", "sibling"),
              ("inherit", "Base"), ("inherit", "Sized"),
              ("call", "join"), ("call", "helper"), ("call", "inner"), ("call", "Shape"), ("call", "compute"),
              ("call", "get"),
              ("type", "str"), ("type", "Optional"), ("type", "Node"), ("type", "float"), ("type", "Shape")},
        absent_defs={("constant", "sides"), ("constant", "result"), ("method", "__init__")},
        absent_refs={("inherit", "Meta"), ("import", "cabc"), ("import", "L")},
    ),
    "javascript": dict(
        defs={("class", "Animal"), ("class", "Dog"), ("method", "constructor"), ("method", "create"),
              ("method", "bark"), ("method", "loud"), ("method", "run"), ("function", "ids"), ("function", "main"),
              ("function", "handler"), ("function", "legacy"), ("function", "stop"), ("function", "util"),
              ("constant", "MAX_ITEMS"), ("constant", "API_URL"), ("constant", "fs")},
        refs={("import", "react"), ("import", "React"), ("import", "useState"), ("import", "useEffect"),
              ("import", "node:path"), ("import", "./styles.css"), ("import", "./helper.js"),
              ("inherit", "Animal"), ("new", "Dog"),
              ("call", "require"), ("call", "log"), ("call", "join"), ("call", "create"), ("call", "bark"),
              ("call", "fetchData"), ("call", "helper")},
        absent_defs={("constant", "counter"), ("constant", "handler"), ("constant", "legacy"),
                     ("constant", "dog"), ("constant", "obj")},
        absent_refs={("import", "useFx"), ("import", "path")},
    ),
    "typescript": dict(
        defs={("interface", "Repository"), ("method", "find"), ("type", "UserId"), ("enum", "Color"),
              ("module", "ext"), ("module", "Geometry"), ("function", "ext"), ("class", "Store"),
              ("method", "validate"), ("method", "constructor"), ("function", "createStore"), ("function", "save"),
              ("function", "overload"), ("constant", "VERSION"), ("constant", "RETRIES")},
        refs={("import", "@angular/core"), ("import", "Injectable"), ("import", "Logger"), ("import", "./util"),
              ("import", "./default"), ("import", "Default"),
              ("inherit", "Base"), ("inherit", "Iterable"), ("inherit", "BaseStore"), ("inherit", "Repository"),
              ("inherit", "Disposable"),
              ("new", "Map"), ("new", "MemoryStore"),
              ("call", "debug"), ("call", "format"), ("call", "get"), ("call", "persist"),
              ("type", "T"), ("type", "Iterable"), ("type", "Map"), ("type", "UserId"), ("type", "Logger"),
              ("type", "Store"), ("type", "User"), ("type", "Promise"), ("type", "Repository")},
        absent_defs={("constant", "PI"), ("constant", "save"), ("class", "Repository"), ("type", "Repository")},
        absent_refs={("type", "Color"), ("type", "Geometry")},
    ),
    "tsx": dict(
        defs={("constant", "DEFAULT_LABEL"), ("interface", "Props"), ("type", "Draft"), ("function", "Editor"),
              ("function", "handleSave"), ("class", "Panel"), ("method", "render")},
        refs={("import", "react"), ("import", "React"), ("import", "useState"), ("import", "Button"),
              ("import", "./ui/button"), ("import", "./icons"),
              ("inherit", "HTMLAttributes"), ("inherit", "Component"),
              ("type", "HTMLAttributes"), ("type", "HTMLDivElement"), ("type", "Draft"), ("type", "Props"),
              ("type", "PanelProps"),
              ("call", "useState"), ("call", "onSave"), ("call", "setDraft"),
              ("call", "Panel"), ("call", "Button"), ("call", "Check")},
        absent_defs={("constant", "handleSave")},
        absent_refs={("call", "textarea"), ("call", "div")},
    ),
    "go": dict(
        defs={("constant", "MaxItems"), ("constant", "ModeRead"), ("constant", "ModeWrite"),
              ("constant", "DefaultName"), ("type", "Mode"), ("struct", "Item"), ("interface", "Repository"),
              ("method", "Get"), ("type", "Handler"), ("struct", "MemoryStore"), ("function", "NewMemoryStore"),
              ("function", "Map")},
        refs={("import", "context"), ("import", "fmt"), ("import", "github.com/sirupsen/logrus"),
              ("import", "strings"),
              ("inherit", "Repository"),
              ("call", "make"), ("call", "Debug"), ("call", "ToUpper"), ("call", "Errorf"),
              ("type", "Mode"), ("type", "Context"), ("type", "Item"), ("type", "MemoryStore"), ("type", "error"),
              ("type", "string"), ("type", "T"), ("type", "U")},
        absent_defs={("constant", "item"), ("constant", "ok"), ("type", "Item"), ("type", "Repository")},
        absent_refs={("inherit", "items"), ("type", "Handler")},
    ),
    "rust": dict(
        defs={("constant", "MAX_ITEMS"), ("constant", "GREETING"), ("module", "storage"), ("struct", "Item"),
              ("struct", "Store"), ("enum", "Event"), ("trait", "Repository"), ("method", "get"),
              ("method", "count"), ("type", "Result"), ("struct", "Bits"), ("method", "new"),
              ("macro", "square"), ("function", "main")},
        refs={("import", "std::collections::HashMap"), ("import", "std::fmt"), ("import", "Display"),
              ("import", "Write"), ("import", "crate::store"), ("import", "serde"),
              ("inherit", "Repository"), ("inherit", "Send"), ("inherit", "Sync"),
              ("call", "get"), ("call", "map"), ("call", "helper"), ("call", "new"), ("call", "println"),
              ("call", "init"), ("call", "process"),
              ("type", "HashMap"), ("type", "Option"), ("type", "Item"), ("type", "Store"), ("type", "Result"),
              ("type", "Error"), ("type", "Self"), ("type", "Clone")},
        absent_defs={("function", "get"), ("function", "new"), ("function", "count")},
        absent_refs={("type", "Bits"), ("type", "Event")},
    ),
    "java": dict(
        defs={("class", "MemoryStore"), ("constant", "MAX_ITEMS"), ("method", "MemoryStore"), ("method", "find"),
              ("class", "Node"), ("interface", "Repository"), ("enum", "Color"), ("method", "Color"),
              ("class", "Point"), ("interface", "Marker")},
        refs={("import", "java.util.List"), ("import", "java.util.concurrent"),
              ("import", "java.util.Objects.requireNonNull"),
              ("inherit", "AbstractStore"), ("inherit", "Repository"), ("inherit", "AutoCloseable"),
              ("inherit", "Iterable"), ("inherit", "Shape"),
              ("new", "ArrayList"),
              ("call", "requireNonNull"), ("call", "stream"), ("call", "filter"), ("call", "matches"),
              ("call", "findFirst"), ("call", "orElse"),
              ("type", "Item"), ("type", "List"), ("type", "T"), ("type", "Logger"), ("type", "String"),
              ("type", "Node")},
        absent_defs={("constant", "items"), ("constant", "next")},
        absent_refs={("type", "MemoryStore")},
    ),
    "c": dict(
        defs={("macro", "MAX_ITEMS"), ("macro", "SQUARE"), ("struct", "item"), ("type", "item_t"),
              ("type", "size_type"), ("type", "callback_fn"), ("struct", "store"), ("struct", "value"),
              ("enum", "color"), ("constant", "DEFAULT_CAPACITY"), ("function", "find_item"), ("function", "main")},
        refs={("import", "<stdio.h>"), ("import", "store.h"),
              ("call", "store_new"), ("call", "printf"), ("call", "find_item"), ("call", "SQUARE"), ("call", "cb"),
              ("type", "item_t"), ("type", "size_type"), ("type", "store"), ("type", "item")},
        absent_defs={("function", "store_new"), ("type", "item"), ("constant", "s")},
        absent_refs={("type", "callback_fn")},
    ),
    "cpp": dict(
        defs={("macro", "STORE_API"), ("module", "store"), ("constant", "kMaxItems"), ("class", "Repository"),
              ("method", "~Repository"), ("method", "find"), ("struct", "Item"), ("class", "MemoryStore"),
              ("method", "MemoryStore"), ("method", "operator=="), ("enum", "Color"), ("type", "ItemList"),
              ("function", "main")},
        refs={("import", "<vector>"), ("import", "store/item.hpp"),
              ("inherit", "Repository"), ("inherit", "Logger"),
              ("new", "MemoryStore"),
              ("call", "log"), ("call", "lookup"), ("call", "reserve"), ("call", "find"), ("call", "sort"),
              ("call", "begin"), ("call", "end"),
              ("type", "T"), ("type", "string"), ("type", "Item"), ("type", "MemoryStore"), ("type", "vector")},
        absent_defs={("function", "find"), ("function", "MemoryStore"), ("function", "operator==")},
        absent_refs={("type", "ItemList"), ("type", "Color")},
    ),
    "csharp": dict(
        defs={("module", "Example.Store"), ("interface", "IRepository"), ("method", "Find"),
              ("class", "MemoryStore"), ("constant", "MaxItems"), ("method", "MemoryStore"), ("method", "Count"),
              ("method", "Dispose"), ("struct", "Point"), ("enum", "Color"), ("class", "Person"),
              ("type", "Handler")},
        refs={("import", "System"), ("import", "System.Collections.Generic"), ("import", "System.Math"),
              ("import", "System.Text.StringBuilder"),
              ("inherit", "BaseStore"), ("inherit", "IRepository"), ("inherit", "IDisposable"),
              ("new", "List"),
              ("call", "WriteLine"), ("call", "Find"), ("call", "Cleanup"),
              ("type", "T"), ("type", "Item"), ("type", "List"), ("type", "ILogger")},
        absent_defs={("constant", "_items"), ("constant", "X")},
        absent_refs={("import", "Alias")},
    ),
    "ruby": dict(
        defs={("module", "Storage"), ("constant", "MAX_ITEMS"), ("class", "MemoryStore"),
              ("method", "initialize"), ("method", "build"), ("method", "find"), ("method", "<=>"),
              ("class", "Store"), ("method", "helper")},
        refs={("import", "json"), ("import", "store/item"),
              ("inherit", "BaseStore"), ("inherit", "Enumerable"), ("inherit", "Forwardable"),
              ("inherit", "MemoryStore"),
              ("new", "MemoryStore"), ("new", "Logger"),
              ("call", "attr_reader"), ("call", "debug"), ("call", "detect"), ("call", "find"), ("call", "new")},
        absent_defs={("constant", "items")},
        absent_refs={("import", "config.rb"), ("inherit", "items"), ("new", "Storage")},
    ),
    "php": dict(
        defs={("module", r"App\Store"), ("constant", "MAX_ITEMS"), ("constant", "LEGACY_LIMIT"),
              ("interface", "Cacheable"), ("method", "cacheKey"), ("trait", "Loggable"), ("method", "log"),
              ("class", "BaseStore"), ("class", "MemoryStore"), ("constant", "VERSION"),
              ("method", "__construct"), ("method", "find"), ("method", "create"), ("enum", "Status"),
              ("function", "build_store")},
        refs={("import", r"App\Contracts\Repository"), ("import", r"Psr\Log\LoggerInterface"),
              ("import", r"App\Support\helper"),
              ("inherit", "BaseStore"), ("inherit", "Repository"), ("inherit", "Cacheable"),
              ("inherit", "Loggable"),
              ("new", "MemoryStore"), ("new", "NullLogger"),
              ("call", "define"), ("call", "info"), ("call", "log"), ("call", "fromArray"),
              ("call", "array_filter"), ("call", "helper"),
              ("type", "Logger"), ("type", "Item"), ("type", "MemoryStore")},
        absent_defs={("constant", "items")},
        absent_refs={("import", "Logger")},
    ),
    "kotlin": dict(
        defs={("constant", "MAX_ITEMS"), ("constant", "DEFAULT_NAME"), ("interface", "Repository"),
              ("method", "find"), ("class", "Item"), ("class", "BaseStore"), ("class", "MemoryStore"),
              ("method", "close"), ("method", "create"), ("module", "Registry"), ("method", "register"),
              ("enum", "Color"), ("type", "ItemList"), ("function", "describe")},
        refs={("import", "kotlin.collections.List"), ("import", "com.example.util"),
              ("import", "org.slf4j.Logger"),
              ("inherit", "BaseStore"), ("inherit", "Repository"), ("inherit", "AutoCloseable"),
              ("call", "mutableListOf"), ("call", "info"), ("call", "firstOrNull"), ("call", "clear"),
              ("call", "MemoryStore"), ("call", "getLogger"), ("call", "println"), ("call", "helper"),
              ("type", "String"), ("type", "T"), ("type", "List"), ("type", "Log"), ("type", "Item"),
              ("type", "MemoryStore"), ("type", "Repository")},
        absent_defs={("class", "Color"), ("class", "Repository"), ("function", "find"), ("constant", "items")},
        absent_refs={("import", "Log")},
    ),
    "swift": dict(
        defs={("constant", "maxItems"), ("constant", "defaultName"), ("interface", "Repository"),
              ("method", "find"), ("struct", "Item"), ("enum", "Color"), ("class", "BaseStore"),
              ("method", "init"), ("class", "MemoryStore"), ("method", "make"), ("type", "ItemMap"),
              ("function", "helper")},
        refs={("import", "Foundation"), ("import", "UIKit.CGPoint"),
              ("inherit", "AnyObject"), ("inherit", "Codable"), ("inherit", "Hashable"), ("inherit", "String"),
              ("inherit", "BaseStore"), ("inherit", "Repository"), ("inherit", "CustomStringConvertible"),
              ("call", "init"), ("call", "print"), ("call", "map"), ("call", "normalize"), ("call", "MemoryStore"),
              ("call", "find"),
              ("type", "String"), ("type", "Element"), ("type", "Item"), ("type", "MemoryStore"), ("type", "Int")},
        absent_defs={("function", "find"), ("constant", "items"), ("class", "Item")},
        absent_refs={("call", "items")},
    ),
    "bash": dict(
        defs={("constant", "MAX_RETRIES"), ("constant", "LOG_DIR"), ("function", "log"), ("function", "retry"),
              ("function", "deploy_app"), ("function", "main")},
        refs={("import", "./lib/common.sh"), ("import", '"$HOME/.config/env.sh"'),
              ("call", "set"), ("call", "echo"), ("call", "date"), ("call", "log"), ("call", "sleep"),
              ("call", "retry"), ("call", "build_assets"), ("call", "tee"), ("call", "deploy_app"),
              ("call", "main")},
        absent_defs={("constant", "n")},
        absent_refs={("import", "-euo"), ("import", "pipefail")},
    ),
    "scala": dict(
        defs={("module", "com.example.store"), ("constant", "MaxItems"), ("trait", "Repository"),
              ("method", "find"), ("class", "BaseStore"), ("class", "Item"), ("class", "MemoryStore"),
              ("method", "close"), ("module", "MemoryStore"), ("constant", "DefaultName"), ("method", "apply"),
              ("enum", "Color"), ("type", "ItemMap"), ("function", "helper")},
        refs={("import", "mutable"), ("import", "util"), ("import", "Helper"), ("import", "Logger"),
              ("import", "time"),
              ("inherit", "BaseStore"), ("inherit", "Repository"), ("inherit", "AutoCloseable"),
              ("new", "MemoryStore"),
              ("call", "info"), ("call", "get"), ("call", "map"), ("call", "clear"), ("call", "default"),
              ("call", "find"),
              ("type", "Option"), ("type", "T"), ("type", "String"), ("type", "Log"), ("type", "List"),
              ("type", "Item"), ("type", "Int"), ("type", "Unit"), ("type", "MemoryStore"), ("type", "Map")},
        absent_defs={("function", "find"), ("constant", "items"), ("constant", "count")},
        absent_refs={("import", "Log"), ("import", "scala")},
    ),
    "lua": dict(
        defs={("constant", "json"), ("constant", "util"), ("constant", "M"), ("constant", "MAX_ITEMS"),
              ("constant", "DEFAULT_NAME"), ("constant", "Store"), ("function", "new"), ("method", "find"),
              ("function", "normalize"), ("function", "helper"), ("function", "handler"), ("function", "cb"),
              ("function", "global_fn")},
        refs={("import", "cjson"), ("import", "app.util"),
              ("call", "require"), ("call", "setmetatable"), ("call", "debug"), ("call", "lookup"),
              ("call", "lower"), ("call", "normalize"), ("call", "encode"), ("call", "find"), ("call", "print")},
        absent_defs={("constant", "cb"), ("constant", "self")},
        absent_refs=set(),
    ),
}


# --------------------------------------------------------------------- helpers


def run_query(lang: str, source: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Parse ``source``, run the tag query; return ({(def kind, name)}, {(ref kind, name)}).

    Also checks the per-match contract: one ``name`` node plus one
    ``definition.*``/``reference.*`` node that contains it.
    """
    data = source.encode("utf-8")
    tree = Parser(load_language(lang)).parse(data)
    assert not tree.root_node.has_error, f"{lang} sample does not parse cleanly"
    defs: set[tuple[str, str]] = set()
    refs: set[tuple[str, str]] = set()
    for pattern_index, captures in QueryCursor(load_query(lang)).matches(tree.root_node):
        assert set(captures) - {"name"}, f"{lang} pattern {pattern_index}: no tag capture"
        assert "name" in captures, f"{lang} pattern {pattern_index}: no @name"
        assert len(captures) == 2, f"{lang} pattern {pattern_index}: captures {sorted(captures)}"
        (tag,) = set(captures) - {"name"}
        assert len(captures["name"]) == 1 and len(captures[tag]) == 1, (lang, pattern_index)
        name_node, tag_node = captures["name"][0], captures[tag][0]
        assert tag_node.start_byte <= name_node.start_byte <= name_node.end_byte <= tag_node.end_byte, (
            f"{lang} pattern {pattern_index}: @name outside @{tag}"
        )
        category, _, kind = tag.partition(".")
        name = data[name_node.start_byte : name_node.end_byte].decode("utf-8")
        (defs if category == "definition" else refs).add((kind, name))
    return defs, refs


def _quantifier(query, pattern_index: int, capture_index: int) -> str | None:
    """The capture's quantifier in a pattern ("", "?", "*", "+"), or None when absent.

    py-tree-sitter 0.26 raises SystemError for an absent capture (quantifier zero).
    """
    try:
        value = query.capture_quantifier(pattern_index, capture_index)
    except (SystemError, ValueError):
        return None
    return value if value in ("", "?", "*", "+") else None


# ----------------------------------------------------------------------- tests


def test_every_code_language_has_a_compiling_query():
    assert set(SAMPLES) == set(CODE_LANGUAGES)
    for lang in CODE_LANGUAGES:
        assert (QUERY_DIR / f"{lang}.scm").is_file(), lang
        query = load_query(lang)
        assert query.pattern_count > 0, lang


@pytest.mark.parametrize("lang", sorted(CODE_LANGUAGES))
def test_capture_names_follow_the_contract(lang):
    query = load_query(lang)
    names = [query.capture_name(i) for i in range(query.capture_count)]
    assert "name" in names
    for capture in names:
        if capture == "name":
            continue
        category, _, kind = capture.partition(".")
        if category == "definition":
            assert kind in DEFINITION_KINDS, capture
        else:
            assert category == "reference" and kind in REFERENCE_KINDS, capture


@pytest.mark.parametrize("lang", sorted(CODE_LANGUAGES))
def test_every_pattern_has_one_tag_and_one_name(lang):
    """Per pattern (including every branch of an alternation): @name exactly once and
    exactly one other capture, also exactly once."""
    query = load_query(lang)
    names = [query.capture_name(i) for i in range(query.capture_count)]
    for pattern_index in range(query.pattern_count):
        present = {}
        for capture_index, capture in enumerate(names):
            quantifier = _quantifier(query, pattern_index, capture_index)
            if quantifier is not None:
                present[capture] = quantifier
        assert set(present) - {"name"} and "name" in present and len(present) == 2, (
            f"{lang} pattern {pattern_index}: {present}"
        )
        assert all(q == "" for q in present.values()), f"{lang} pattern {pattern_index}: {present}"


def test_queries_use_only_builtin_predicates():
    allowed = {"eq?", "not-eq?", "match?", "any-of?"}
    for lang in CODE_LANGUAGES:
        text = (QUERY_DIR / f"{lang}.scm").read_text(encoding="utf-8")
        code = "\n".join(line.split(";", 1)[0] for line in text.splitlines())
        used = set(re.findall(r"\(#([\w-]+[?!])", code))
        assert used <= allowed, (lang, used - allowed)


def test_tsx_query_extends_the_typescript_query():
    from codeassist.parsing.languages import CODE_LANGUAGES

    assert CODE_LANGUAGES["tsx"].queries == ("typescript", "tsx")
    tsx = (QUERY_DIR / "tsx.scm").read_text(encoding="utf-8")
    assert "jsx_self_closing_element" in tsx
    assert "interface_declaration" not in tsx  # the TypeScript part is not repeated
    # the compiled TSX query holds every TypeScript pattern plus the JSX ones
    assert load_query("tsx").pattern_count > load_query("typescript").pattern_count


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_sample_definitions_and_references(lang):
    defs, refs = run_query(lang, SAMPLES[lang])
    expected = EXPECTED[lang]
    assert expected["defs"] <= defs, f"missing definitions: {sorted(expected['defs'] - defs)}"
    assert expected["refs"] <= refs, f"missing references: {sorted(expected['refs'] - refs)}"
    assert not (expected["absent_defs"] & defs), f"unexpected: {sorted(expected['absent_defs'] & defs)}"
    assert not (expected["absent_refs"] & refs), f"unexpected: {sorted(expected['absent_refs'] & refs)}"
    kinds_found = {kind for kind, _ in defs}
    assert kinds_found <= DEFINITION_KINDS
    assert {kind for kind, _ in refs} <= REFERENCE_KINDS


def test_python_definitions_are_not_duplicated():
    """One match per definition node (the extractor builds one symbol per match)."""
    data = SAMPLES["python"].encode()
    tree = Parser(load_language("python")).parse(data)
    seen = []
    for _, captures in QueryCursor(load_query("python")).matches(tree.root_node):
        for tag, nodes in captures.items():
            if tag.startswith("definition."):
                seen.append((nodes[0].start_byte, nodes[0].end_byte))
    assert len(seen) == len(set(seen))
