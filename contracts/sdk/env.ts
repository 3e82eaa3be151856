// The host API as AssemblyScript sees it: one declaration per function of
// gateway/contracts/host-api.ts (the ABI; module "env"). Integers only: pointers and lengths are
// i32, amounts, times and reading values (milli-units) are i64.

@external("env", "input_size") export declare function input_size(): i32;
@external("env", "input_read") export declare function input_read(ptr: usize): void;
@external("env", "caller") export declare function caller(ptr: usize): void;
@external("env", "self") export declare function self(ptr: usize): void;
@external("env", "owner") export declare function owner(ptr: usize): void;
@external("env", "value") export declare function value(): i64;
@external("env", "balance") export declare function balance(): i64;
@external("env", "transfer") export declare function transfer(to: usize, amount: i64): i32;
@external("env", "block_height") export declare function block_height(): i64;
@external("env", "block_time_ms") export declare function block_time_ms(): i64;
@external("env", "block_parent_hash") export declare function block_parent_hash(ptr: usize): void;
@external("env", "storage_read") export declare function storage_read(key: usize, keyLen: i32, out: usize, cap: i32): i32;
@external("env", "storage_write") export declare function storage_write(key: usize, keyLen: i32, value: usize, valueLen: i32): void;
@external("env", "storage_remove") export declare function storage_remove(key: usize, keyLen: i32): void;
@external("env", "emit") export declare function emit(topic: usize, topicLen: i32, data: usize, dataLen: i32): void;
@external("env", "reading_device") export declare function reading_device(ptr: usize): void;
@external("env", "reading_owner") export declare function reading_owner(ptr: usize): void;
@external("env", "reading_sequence") export declare function reading_sequence(): i64;
@external("env", "reading_received_ms") export declare function reading_received_ms(): i64;
@external("env", "reading_records") export declare function reading_records(): i32;
@external("env", "reading_find") export declare function reading_find(name: usize, nameLen: i32): i32;
@external("env", "reading_name") export declare function reading_name(i: i32, out: usize, cap: i32): i32;
@external("env", "reading_kind") export declare function reading_kind(i: i32): i32;
@external("env", "reading_value") export declare function reading_value(i: i32): i64;
@external("env", "reading_metadata") export declare function reading_metadata(key: usize, keyLen: i32, out: usize, cap: i32): i32;
