#!/usr/bin/env node
import { main } from "@cdc-delta/shared";
import { sourceDefinition } from "./definition.js";

main(sourceDefinition);
